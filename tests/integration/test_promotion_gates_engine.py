"""Promotion gates, records and approved = applied on the real engine and a file backend, with
the provider-free environment (tests/integration/environment.py). The verify gate against a
running app is tested on the libvirt stages (test_promotion_gates_libvirt.py)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stageline.ci.approval import digest
from stageline.ci.report import PreviewReport, ReleaseChange, Selection, StageReport
from stageline.cli.context import CliContext
from stageline.workspace import Project
from tests.conftest import edit_stack_file
from tests.integration.conftest import Run
from tests.integration.environment import make_environment

pytestmark = pytest.mark.integration

NO_APP = {"verify": False}
"""The provider-free environment serves no app: its stages turn verify off, as a stack file
would for a stage without an ingress."""


def gates(project_dir: Path, stage: str, **values: object) -> None:
    edit_stack_file(project_dir / f"stacks/Pulumi.{stage}.yaml", {"gates": {**NO_APP, **values}})


def ok(result):  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return result


def history_files(state_dir: Path, stage: str) -> list[dict]:
    folder = state_dir / ".pulumi/history/stageline" / stage
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.history.json"))]


def test_soak_blocks_a_fresh_deploy_and_passes_once_it_has_run(
    run: Run, project_dir: Path, state_dir: Path
) -> None:
    gates(project_dir, "test", soakMinutes=1)
    ok(run("up", "dev"))
    blocked = run("promote", "test", "--dry-run")
    assert blocked.exit_code == 1, blocked.output
    assert "BLOCKED soakMinutes" in blocked.output
    assert "only since" in blocked.output and "to pass: wait until" in blocked.output
    refused = run("promote", "test", "--yes")
    assert refused.exit_code == 1
    assert "refused; nothing was changed" in refused.output
    assert "soakMinutes" in refused.output
    assert not history_files(state_dir, "test"), "a refused promotion must not touch the stage"
    # Wait out the minute from dev's recorded end time, as the gate reads it.
    (update,) = history_files(state_dir, "dev")
    ended = datetime.fromtimestamp(update["endTime"], UTC)
    time.sleep(max(0.0, 61 - (datetime.now(UTC) - ended).total_seconds()))
    passed = ok(run("promote", "test", "--dry-run"))
    assert "passed  soakMinutes" in passed.output, passed.output


def test_a_plain_update_without_a_record_restarts_the_soak(run: Run, project_dir: Path) -> None:
    gates(project_dir, "test", soakMinutes=1)
    ok(run("up", "dev"))
    # An update stageline did not run (as `pulumi up` leaves it): no record in its message.
    CliContext(Project(project_dir, make_environment())).stack("dev").up()
    blocked = run("promote", "test", "--dry-run")
    assert blocked.exit_code == 1
    assert "no successful update by stageline" in blocked.output, blocked.output


def test_production_needs_an_approval(run: Run, project_dir: Path, state_dir: Path) -> None:
    for stage in ("test", "qa", "staging", "prod"):
        gates(project_dir, stage)
    for stage in ("dev", "test", "qa", "staging"):
        ok(run("up", stage))
    blocked = run("promote", "prod", "--dry-run")
    assert blocked.exit_code == 1
    assert "BLOCKED approval: needs an approval: prod is production" in blocked.output
    assert "--approved-by" in blocked.output
    refused = run("promote", "prod", "--yes")
    assert refused.exit_code == 1 and "approval" in refused.output
    assert not history_files(state_dir, "prod")
    promoted = ok(run("promote", "prod", "--yes", "--approved-by", "alice", "--no-wait"))
    assert "passed  approval: approved by alice (--approved-by)" in promoted.output

    # The record is in the backend, beside the state.
    (update,) = history_files(state_dir, "prod")
    assert update["message"].startswith("stageline ")
    record = json.loads(update["message"].removeprefix("stageline "))["promotion"]
    assert record["approved_by"] == "alice" and record["from_stage"] == "staging"
    assert record["release"]["appVersion"] == "1.0.0"
    assert [g["gate"] for g in record["gates"] if g["passed"]] == [
        "approval",
        "soakMinutes",
        "verify",
    ]
    shown = json.loads(ok(run("history", "prod", "--format", "json")).output)
    assert len(shown) == 1 and shown[0]["approved_by"] == "alice"
    assert shown[0]["result"] == "succeeded" and shown[0]["from_stack"] == "staging"
    text = ok(run("history", "prod")).output
    assert "1.0.0" in text and "from staging" in text and "approved by alice" in text


def test_approval_is_not_needed_on_a_development_stage(run: Run, project_dir: Path) -> None:
    gates(project_dir, "test")
    ok(run("up", "dev"))
    result = ok(run("promote", "test", "--dry-run"))
    assert "passed  approval: not required" in result.output
    assert "would pass" in result.output


def test_approved_report_applies_only_the_approved_changes(
    run: Run, project_dir: Path, state_dir: Path
) -> None:
    gates(project_dir, "test")
    ok(run("up", "dev"))
    ok(run("up", "test"))
    # A report approving no changes for test at dev's release: what a converged stage previews.
    approved = StageReport(
        stage="test",
        target="aws",
        source="engine",
        release=ReleaseChange(current="1.0.0", planned="1.0.0", source="promoted from dev"),
        digest=digest([], "1.0.0"),
    )
    report = project_dir / "approved.json"
    report.write_text(
        PreviewReport(selection=Selection(stages=("test",)), stages=(approved,)).model_dump_json()
    )
    ok(run("promote", "test", "--yes", "--approved-report", str(report)))
    before = len(history_files(state_dir, "test"))
    # dev moves on: test's preview now changes its release, which nobody approved.
    edit_stack_file(project_dir / "stacks/Pulumi.dev.yaml", {"release.appVersion": "1.1.0"})
    ok(run("up", "dev"))
    refused = run("promote", "test", "--yes", "--approved-report", str(report))
    assert refused.exit_code == 1
    assert "not the ones approved" in refused.output
    assert "release: approved 1.0.0, now 1.1.0" in refused.output
    assert len(history_files(state_dir, "test")) == before, "nothing may be applied"
    missing = run("up", "qa", "--approved-report", str(report))
    assert missing.exit_code == 1 and "has no stage 'qa'" in missing.output
