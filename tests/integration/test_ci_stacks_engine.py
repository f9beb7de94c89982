"""`stageline ci up / down / gc` on the real engine and a real file backend, with the
provider-free environment (tests/integration/environment.py): the `ci` template promotes from
`dev`, which each test deploys first."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import edit_stack_file
from tests.integration.conftest import Run

pytestmark = pytest.mark.integration

NO_APP = {"gates": {"verify": False}}


def ok(result):  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return result


def stack_files(state_dir: Path) -> set[str]:
    folder = state_dir / ".pulumi/stacks/stageline"
    return {p.name.split(".")[0] for p in folder.glob("*.json")}


def tags(state_dir: Path, stack: str) -> dict[str, str]:
    path = state_dir / f".pulumi/stacks/stageline/{stack}.pulumi-tags"
    return json.loads(path.read_text())["tags"] if path.exists() else {}


@pytest.fixture
def with_dev(run: Run, project_dir: Path) -> Run:
    ok(run("up", "dev"))
    return run


def test_ci_up_then_down(with_dev: Run, project_dir: Path, state_dir: Path) -> None:
    run = with_dev
    up = ok(run("ci", "up", "--id", "pr-7", "--ttl", "2h"))
    assert "ci-pr-7: made from the ci template, time to live 2h" in up.output
    assert "ci-pr-7" in stack_files(state_dir)
    assert tags(state_dir, "ci-pr-7")["stageline:ttl"] == "2h"
    assert json.loads(ok(run("outputs", "ci-pr-7")).output)["stage"] == "ci"
    copy = project_dir / "stacks/Pulumi.ci-pr-7.yaml"
    assert copy.is_file()
    down = ok(run("ci", "down", "--id", "pr-7", "--yes"))
    assert "ci-pr-7: destroyed and removed" in down.output
    assert "ci-pr-7" not in stack_files(state_dir)
    assert not (state_dir / ".pulumi/stacks/stageline/ci-pr-7.pulumi-tags").exists()
    assert not copy.exists()


@pytest.mark.parametrize(
    ("ci_id", "says"),
    [
        ("PR_7", "is not a plain name"),
        ("../x", "is not a plain name"),
        ("pr-" + "9" * 40, "which the ci template refuses"),
    ],
)
def test_a_bad_id_is_refused_before_anything(
    run: Run, state_dir: Path, project_dir: Path, ci_id: str, says: str
) -> None:
    result = run("ci", "up", "--id", ci_id)
    assert result.exit_code == 2, result.output
    assert says in result.output and ci_id in result.output
    assert "Traceback" not in result.output
    assert (
        not any(n.startswith("ci-") for n in stack_files(state_dir))
        if (state_dir / ".pulumi").exists()
        else True
    )
    assert not list((project_dir / "stacks").glob("Pulumi.ci-*.yaml"))


def test_gc_removes_expired_keeps_the_rest_and_reports_failures(
    with_dev: Run, project_dir: Path, state_dir: Path
) -> None:
    run = with_dev
    ok(run("ci", "up", "--id", "old", "--ttl", "1s"))
    ok(run("ci", "up", "--id", "fresh"))
    # A stack whose destroy fails: its copy protects its data, so the engine refuses.
    ok(run("ci", "up", "--id", "stuck", "--ttl", "1s"))
    edit_stack_file(project_dir / "stacks/Pulumi.ci-stuck.yaml", {"protectData": True})
    ok(run("up", "ci-stuck"))
    # The sweep may run from another clone: the copies are made again from the template.
    (project_dir / "stacks/Pulumi.ci-old.yaml").unlink()
    time.sleep(2)

    dry = ok(run("ci", "gc", "--dry-run"))
    assert "ci-old: would remove" in dry.output and "ci-stuck: would remove" in dry.output
    assert "ci-fresh: kept" in dry.output and "tag 24h: expires" in dry.output
    assert {"ci-old", "ci-fresh", "ci-stuck"} <= stack_files(state_dir)

    swept = run("ci", "gc")
    assert swept.exit_code == 1, swept.output
    assert "ci-old: removed" in swept.output
    assert "ci-fresh: kept" in swept.output
    assert "ci-stuck: failed" in swept.output and "protect" in swept.output
    assert "1 of 3 ci stacks could not be removed: ci-stuck" in swept.output
    left = stack_files(state_dir)
    assert "ci-old" not in left and {"ci-fresh", "ci-stuck"} <= left
    # --older-than overrides each TTL: the fresh one goes too.
    forced = run("ci", "gc", "--older-than", "1s")
    assert "ci-fresh: removed" in forced.output, forced.output
    assert "ci-fresh" not in stack_files(state_dir)


def test_gc_reads_the_age_from_the_backend(
    with_dev: Run, state_dir: Path, project_dir: Path
) -> None:
    run = with_dev
    ok(run("ci", "up", "--id", "aged", "--ttl", "1h"))
    (update,) = [
        json.loads(p.read_text())
        for p in (state_dir / ".pulumi/history/stageline/ci-aged").glob("*.history.json")
    ]
    started = datetime.fromtimestamp(update["startTime"], UTC)
    kept = ok(run("ci", "gc", "--dry-run"))
    assert f"made {started:%Y-%m-%d %H:%M:%S} UTC" in kept.output, kept.output
    bad = run("ci", "gc", "--older-than", "soon")
    assert bad.exit_code == 2 and "'soon' is not a duration" in bad.output


def test_a_stage_with_its_own_stack_file_is_never_a_ci_stack(
    with_dev: Run, project_dir: Path, state_dir: Path
) -> None:
    run = with_dev
    stacks = project_dir / "stacks"
    own = stacks / "Pulumi.ci-own.yaml"
    own.write_text((stacks / "Pulumi.ci.yaml").read_text())
    ok(run("up", "ci-own"))
    for command in (("up", "--id", "own"), ("down", "--id", "own", "--yes")):
        refused = run("ci", *command)
        assert refused.exit_code == 2, refused.output
        assert f"{own} is the project's own, not a copy of the ci template" in refused.output
    # A hand-edited TTL tag: the default applies, and the sweep says so.
    ok(run("ci", "up", "--id", "odd"))
    tag_file = state_dir / ".pulumi/stacks/stageline/ci-odd.pulumi-tags"
    written = json.loads(tag_file.read_text())
    tag_file.write_text(json.dumps({**written, "tags": {**written["tags"], "stageline:ttl": "x"}}))

    swept = ok(run("ci", "gc"))
    assert "ci-own: kept (its stack file is the project's own" in swept.output, swept.output
    assert "ci-odd: kept (made " in swept.output
    assert "tag 'x' unreadable, default 24h: expires" in swept.output
    forced = ok(run("ci", "gc", "--older-than", "1s"))
    assert "ci-own: kept" in forced.output and "ci-odd: removed" in forced.output
    assert "ci-own" in stack_files(state_dir) and own.is_file()
