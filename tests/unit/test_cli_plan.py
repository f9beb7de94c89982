"""`stageline plan` through click's CLI runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from stageline.cli.main import cli
from tests.conftest import REPO_STACKS, all_stack_names, edit_stack_file


def test_plan_prod_prints_the_tree_and_exports() -> None:
    result = CliRunner().invoke(cli, ["plan", "prod"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "== prod:" in out
    assert "stageline:environment:EnvironmentTemplate  prod" in out
    assert "aws:rds/instance:Instance  prod-database-pg" in out and "multiAz=True" in out
    assert "protect" in out
    assert "release:" in out and "schemaVersion:" in out
    assert "mock-password" not in out


def test_plan_all_prints_every_stage() -> None:
    result = CliRunner().invoke(cli, ["plan", "--all"])
    assert result.exit_code == 0, result.output
    for stage in all_stack_names():
        assert f"== {stage}:" in result.output, stage


def test_plan_uses_given_upstream_outputs(tmp_path: Path) -> None:
    upstream = json.loads(CliRunner().invoke(cli, ["plan", "test", "--format", "json"]).output)
    exports = upstream["test"]["exports"]
    exports["release"]["appVersion"] = "7.7.7"
    outputs = tmp_path / "test-outputs.json"
    outputs.write_text(json.dumps(exports))
    result = CliRunner().invoke(
        cli, ["plan", "qa", "--upstream-outputs", str(outputs), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    plans = json.loads(result.output)
    assert list(plans) == ["qa"]
    assert plans["qa"]["exports"]["release"]["appVersion"] == "7.7.7"


def test_plan_of_an_ephemeral_ci_stack() -> None:
    result = CliRunner().invoke(cli, ["plan", "ci-pr-42"])
    assert result.exit_code == 0, result.output
    assert "== ci-pr-42:" in result.output
    assert "ci-pr-42-database-pg" in result.output


def test_config_error_exits_non_zero(tmp_path: Path) -> None:
    folder = tmp_path / "stacks"
    folder.mkdir()
    for stack in REPO_STACKS.glob("Pulumi.*.yaml"):
        (folder / stack.name).write_text(stack.read_text())
    edit_stack_file(folder / "Pulumi.qa.yaml", {"compute.minCount": 9})
    result = CliRunner().invoke(cli, ["plan", "--all", "--stacks", str(folder)])
    assert result.exit_code == 1
    assert "stageline:compute.minCount = 9" in result.output
    # Downstream of the broken stage cannot plan, and says why instead of a misleading error.
    assert "== prod:" not in result.output
    assert "prod: not planned: its upstream 'staging' failed to plan" in result.output


def test_unknown_stage_and_usage_errors() -> None:
    result = CliRunner().invoke(cli, ["plan", "uat"])
    assert result.exit_code == 2 and "Pulumi.uat.yaml" in result.output
    assert CliRunner().invoke(cli, ["plan"]).exit_code == 2


def test_plan_reads_the_project_given_by_project_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run from elsewhere, with no cache override: both the stack files and the plan cache must
    # come from the project named on the command line.
    monkeypatch.delenv("STAGELINE_PLAN_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(REPO_STACKS.parent / "Pulumi.yaml", project / "Pulumi.yaml")
    for stack in REPO_STACKS.glob("Pulumi.*.yaml"):
        (project / "stacks" / stack.name).write_text(stack.read_text())
    edit_stack_file(project / "stacks" / "Pulumi.dev.yaml", {"compute.minCount": 9})

    result = CliRunner().invoke(cli, ["--project-dir", str(project), "plan", "dev"])

    assert result.exit_code == 1, result.output
    assert "stageline:compute.minCount = 9" in result.output, result.output


def test_plan_caches_under_the_project_given_by_project_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STAGELINE_PLAN_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    project = tmp_path / "project"
    shutil.copytree(REPO_STACKS, project / "stacks")
    shutil.copy(REPO_STACKS.parent / "Pulumi.yaml", project / "Pulumi.yaml")

    # qa's upstream (test) is planned first and its outputs cached for qa.
    result = CliRunner().invoke(cli, ["--project-dir", str(project), "plan", "qa"])

    assert result.exit_code == 0, result.output
    assert any((project / ".stageline" / "cache" / "plans").iterdir())
