"""`stageline ci comment` through the CLI runner, against the loopback fake of the GitHub API.

The markdown renderer is replaced through the command's `load_renderer` seam, so these tests
cover the command itself (report, options, token, step summary, what it prints).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from stageline.ci.comment import COMMENT_BUDGET, marker
from stageline.ci.report import PreviewReport, ResourceChange, Selection, StageReport
from stageline.cli import ci as ci_module
from stageline.cli.context import CliContext
from stageline.cli.main import cli
from stageline.workspace import Project
from tests.fake_github import FakeGitHub, serve

TOKEN = "ghs_test"
REPO = "octo-org/app"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    with serve() as running:
        running.add_token(TOKEN, "github-actions[bot]")
        running.add_pull(REPO, 12)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", running.url)
        yield running


@pytest.fixture
def budgets(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Renders one comment per stage, and records the budget the command asked for."""
    asked: list[int] = []

    def render_comments(report: PreviewReport, budget: int) -> list[str]:
        asked.append(budget)
        return [f"{s.stage}: {s.source}" for s in report.stages]

    def render_summary(report: PreviewReport) -> str:
        return "# Preview\n" + "".join(f"- {s.stage}\n" for s in report.stages)

    monkeypatch.setattr(ci_module, "load_renderer", lambda: (render_comments, render_summary))
    return asked


def write_report(path: Path, *stages: str) -> Path:
    report = PreviewReport(
        selection=Selection(stages=stages),
        stages=tuple(StageReport(stage=s, target="libvirt", source="offline") for s in stages),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.model_dump_json())
    return path


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["ci", "comment", *args], obj=CliContext(Project(root)))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_posts_then_edits_and_deletes(fake: FakeGitHub, budgets: list[int], tmp_path: Path) -> None:
    report = write_report(tmp_path / ".stageline/ci/preview.json", "dev", "test", "qa")
    code, output = run(tmp_path, "--repo", REPO, "--pr", "12")
    assert code == 0, output
    assert f"edited 0, created 3, deleted 0 comments on {REPO}#12" in output
    assert budgets == [COMMENT_BUDGET]
    ids = [c["id"] for c in fake.pull(REPO, 12)]

    write_report(report, "qa")
    code, output = run(tmp_path, "--repo", REPO, "--pr", "12", "--report", str(report))
    assert code == 0, output
    assert f"edited 1, created 0, deleted 2 comments on {REPO}#12" in output
    assert f"summary: https://github.com/{REPO}/pull/12#issuecomment-{ids[0]}" in output
    assert fake.bodies(REPO, 12) == [marker("preview", 1) + "qa: offline"]
    assert [c["id"] for c in fake.pull(REPO, 12)] == ids[:1]


def test_writes_the_step_summary(
    fake: FakeGitHub, budgets: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_report(tmp_path / ".stageline/ci/preview.json", "dev", "qa")
    code, output = run(tmp_path, "--repo", REPO, "--pr", "12")
    assert code == 0, output
    assert summary.read_text() == "# Preview\n- dev\n- qa\n"
    assert f"step summary written to {summary}" in output


def test_a_missing_report_names_the_path_and_the_command(
    fake: FakeGitHub, budgets: list[int], tmp_path: Path
) -> None:
    code, output = run(tmp_path, "--repo", REPO, "--pr", "12")
    path = tmp_path / ".stageline/ci/preview.json"
    assert code == 1
    assert (
        f"no preview report at {path}: write it first with "
        f"`stageline preview --all --format json --output {path}`"
    ) in output
    assert fake.seen == []


def test_an_unreadable_report_is_named(
    fake: FakeGitHub, budgets: list[int], tmp_path: Path
) -> None:
    path = tmp_path / "preview.json"
    path.write_text('{"format": 1, "stages": []}')
    code, output = run(tmp_path, "--repo", REPO, "--pr", "12", "--report", str(path))
    assert code == 1
    assert f"the preview report {path} is not one stageline can read" in output
    assert "selection" in output and "Traceback" not in output
    assert f"`stageline preview --all --format json --output {path}`" in output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--repo", "octo-org", "--pr", "12"], "'octo-org' is not a GitHub repository"),
        (["--repo", REPO, "--pr", "0"], "Invalid value for '--pr': 0 is not in the range x>=1"),
        (["--repo", REPO, "--pr", "twelve"], "'twelve' is not a valid integer"),
        (["--pr", "12"], "Missing option '--repo'"),
    ],
)
def test_bad_options_are_named(
    fake: FakeGitHub, budgets: list[int], tmp_path: Path, args: list[str], expected: str
) -> None:
    write_report(tmp_path / ".stageline/ci/preview.json", "dev")
    code, output = run(tmp_path, *args)
    assert code == 2
    assert expected in " ".join(output.split())
    assert fake.seen == []


def test_a_missing_token_fails_before_any_request(
    fake: FakeGitHub, budgets: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    write_report(tmp_path / ".stageline/ci/preview.json", "dev")
    code, output = run(tmp_path, "--repo", REPO, "--pr", "12")
    assert code == 1
    assert "Error: GITHUB_TOKEN is not set" in output
    assert fake.seen == []


def test_a_github_failure_is_one_message(
    fake: FakeGitHub, budgets: list[int], tmp_path: Path
) -> None:
    write_report(tmp_path / ".stageline/ci/preview.json", "dev")
    code, output = run(tmp_path, "--repo", REPO, "--pr", "99")
    assert code == 1
    assert output.startswith(
        f"Error: could not list the comments of {REPO}#99: GitHub answered 404"
    )
    assert "Traceback" not in output


def many_changes(stage: str, count: int) -> StageReport:
    changes = tuple(
        ResourceChange(
            urn=f"urn:pulumi:{stage}::stageline::aws:ec2/securityGroupRule:SecurityGroupRule::"
            f"{stage}-rule-{i:05d}",
            type="aws:ec2/securityGroupRule:SecurityGroupRule",
            name=f"{stage}-rule-{i:05d}",
            op="update",
            diff=("description", "cidrBlocks"),
        )
        for i in range(count)
    )
    return StageReport(stage=stage, target="aws", source="engine", changes=changes)


def test_the_real_summary_spills_into_continuations_and_shrinks_back(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    path = tmp_path / ".stageline/ci/preview.json"
    big = PreviewReport(
        selection=Selection(stages=("dev", "prod")),
        stages=(many_changes("dev", 1500), many_changes("prod", 1500)),
    )
    path.parent.mkdir(parents=True)
    path.write_text(big.model_dump_json())
    code, output = run(tmp_path, "--repo", REPO, "--pr", "12")
    assert code == 0, output
    posted = [c["body"] for c in fake.pull(REPO, 12)]
    assert len(posted) > 2, "3,000 changes fit no single comment"
    assert all(len(body) <= 65_536 for body in posted), [len(b) for b in posted]
    assert "| dev |" in posted[0] and "| prod |" in posted[0], "the table is whole in comment 1"
    rules = [f"{s}-rule-{i:05d}" for s in ("dev", "prod") for i in range(1500)]
    text = "\n".join(posted)
    assert all(text.count(name) == 1 for name in rules[::97]), "each change exactly once"

    small = PreviewReport(selection=Selection(stages=("dev",)), stages=(many_changes("dev", 3),))
    path.write_text(small.model_dump_json())
    code, output = run(tmp_path, "--repo", REPO, "--pr", "12")
    assert code == 0, output
    after = fake.pull(REPO, 12)
    assert len(after) == 1 and "dev-rule-00002" in after[0]["body"], after
    assert f"deleted {len(posted) - 1} comments" in output
