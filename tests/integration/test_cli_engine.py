"""Every operator command through click's CLI runner, on the real engine and a file backend."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from components.contract import SCHEMA_VERSION
from stageline.automation import InstalledPulumi
from stageline.cli.context import CliContext
from stageline.cli.main import cli
from stageline.engine import InstallReport, engine_env
from stageline.workspace import Engine, Project
from tests.conftest import edit_stack_file
from tests.integration.conftest import Run
from tests.integration.environment import make_environment

pytestmark = pytest.mark.integration

PROGRESSION = ["dev", "test", "qa", "staging", "prod"]


def up_chain(run: Run, stages: list[str]) -> None:
    for stage in stages:
        result = run("up", stage)
        assert result.exit_code == 0, f"{stage}: {result.output}"


def test_up_streams_progress_and_summary(run: Run) -> None:
    result = run("up", "dev")
    assert result.exit_code == 0, result.output
    assert "[00:0" in result.output  # elapsed time stamps
    assert "create stageline:test:Data dev-data" in result.output
    assert "dev: 3 create, release 1.0.0" in result.output


def test_preview_refresh_and_outputs(run: Run) -> None:
    preview = run("preview", "dev")
    assert preview.exit_code == 0, preview.output
    assert "dev: would 3 create" in preview.output
    assert run("up", "dev").exit_code == 0
    refresh = run("refresh", "dev")
    assert refresh.exit_code == 0, refresh.output
    assert "dev: refreshed" in refresh.output
    outputs = json.loads(run("outputs", "dev").output)
    assert outputs["stage"] == "dev" and outputs["schemaVersion"] == SCHEMA_VERSION


def test_commands_on_a_stage_without_stack_say_what_to_do(run: Run) -> None:
    for command in ("outputs", "refresh"):
        result = run(command, "qa")
        assert result.exit_code == 1, result.output
        assert "stageline up qa" in result.output, result.output


def test_unknown_stage_is_a_usage_error(run: Run) -> None:
    result = run("up", "uat")
    assert result.exit_code == 2
    assert "Pulumi.uat.yaml" in result.output


def test_destroy_confirms_and_removes(run: Run) -> None:
    assert run("up", "dev").exit_code == 0
    declined = run("destroy", "dev", input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert json.loads(run("outputs", "dev").output)["stage"] == "dev"
    confirmed = run("destroy", "dev", input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "dev: destroyed, 3 delete" in confirmed.output
    assert json.loads(run("outputs", "dev").output) == {}


def test_destroy_refuses_a_protected_stage(run: Run) -> None:
    up_chain(run, PROGRESSION)
    refused = run("destroy", "prod", "--yes")
    assert refused.exit_code == 1
    assert "refusing to destroy" in refused.output
    assert "--force-protected" in refused.output
    assert json.loads(run("outputs", "prod").output)["stage"] == "prod"
    forced = run("destroy", "prod", "--yes", "--force-protected")
    assert forced.exit_code == 0, forced.output
    assert "prod: destroyed" in forced.output


def test_promote_shows_the_release_that_moves(run: Run, project_dir: Path) -> None:
    # The provider-free environment runs no app to verify (tests/integration/environment.py).
    edit_stack_file(project_dir / "stacks/Pulumi.test.yaml", {"gates": {"verify": False}})
    up_chain(run, ["dev", "test"])
    edit_stack_file(project_dir / "stacks/Pulumi.dev.yaml", {"release.appVersion": "1.1.0"})
    assert run("up", "dev").exit_code == 0
    result = run("promote", "test", "--yes")
    assert result.exit_code == 0, result.output
    assert "test: 1.0.0 (" in result.output and "-> 1.1.0 (" in result.output
    assert "from dev" in result.output
    assert json.loads(run("outputs", "test").output)["release"]["appVersion"] == "1.1.0"


def test_promote_refuses_a_pinned_stage(run: Run, project_dir: Path) -> None:
    edit_stack_file(
        project_dir / "stacks/Pulumi.test.yaml",
        {"release": {"appVersion": "0.9.0", "artifact": "ghcr.io/acme/shop:0.9.0"}},
    )
    result = run("promote", "test", "--yes")
    assert result.exit_code == 1
    assert "pins release '0.9.0'" in result.output


def test_ephemeral_ci_stack_is_created_and_removed(run: Run, project_dir: Path) -> None:
    assert run("up", "dev").exit_code == 0
    created = run("up", "ci-pr-7")
    assert created.exit_code == 0, created.output
    copy = project_dir / "stacks/Pulumi.ci-pr-7.yaml"
    assert copy.is_file()
    destroyed = run("destroy", "ci-pr-7", "--yes")
    assert destroyed.exit_code == 0, destroyed.output
    assert not copy.exists()
    assert "no stack" in run("outputs", "ci-pr-7").output or not copy.exists()


def test_cancel_releases_the_lock(run: Run) -> None:
    assert run("up", "dev").exit_code == 0
    result = run("cancel", "dev")
    assert result.exit_code == 0, result.output
    assert "lock released" in result.output


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("text", "└─ test (aws us-east-2)"), ("mermaid", "dev --> test"), ("dot", '"dev" -> "test"')],
)
def test_graph_formats(run: Run, fmt: str, expected: str) -> None:
    result = run("graph", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_engine_install_is_idempotent(run: Run) -> None:
    result = run("engine", "install")
    assert result.exit_code == 0, result.output
    assert "pulumi v3" in result.output


MAIN_WITH_TEST_ENVIRONMENT = """
from stageline.program import deploy
from tests.integration.environment import make_environment

deploy(environment=make_environment())
"""


def test_pulumi_up_runs_the_program_through_the_language_host(run: Run, project_dir: Path) -> None:
    # `pulumi up -s dev` as a user runs it: the engine starts the Python language host, which
    # runs the project's __main__.py, which calls the one program function.
    (project_dir / "__main__.py").write_text(MAIN_WITH_TEST_ENVIRONMENT)
    (project_dir / ".venv").symlink_to(Path(sys.prefix))
    (project_dir / "tests").symlink_to(Path(__file__).resolve().parents[1])
    assert run("pulumi", "stack", "init", "dev").exit_code == 0
    up = run("pulumi", "up", "--yes", "--skip-preview", "-s", "dev")
    assert up.exit_code == 0, up.output
    assert "stageline:test:Data" in up.output
    outputs = json.loads(run("outputs", "dev").output)
    assert outputs["stage"] == "dev" and outputs["release"]["appVersion"] == "1.0.0"


def test_pulumi_preview_reports_config_errors_from_the_program(run: Run, project_dir: Path) -> None:
    shutil.copy(Path(__file__).resolve().parents[2] / "__main__.py", project_dir)
    (project_dir / ".venv").symlink_to(Path(sys.prefix))
    edit_stack_file(project_dir / "stacks/Pulumi.qa.yaml", {"compute.minCount": 9})
    assert run("pulumi", "stack", "init", "qa").exit_code == 0
    preview = run("pulumi", "preview", "-s", "qa")
    assert preview.exit_code != 0
    assert "stageline:compute.minCount = 9: above compute.maxCount (3)" in preview.output


def test_a_missing_provider_plugin_offline_says_which_how_and_plan(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib.metadata import version

    import pulumi

    from stageline.engine.probe import OFFLINE_ENV

    # Nothing can be downloaded: the engine must fail at once, not try.
    monkeypatch.setenv(OFFLINE_ENV, "1")

    def needs_aws(config: object, release: object, root: object, links: object) -> pulumi.Inputs:
        import pulumi_aws

        pulumi_aws.s3.Bucket("needs-the-aws-plugin")
        return {}

    result = run("up", "dev", environment=needs_aws)

    assert result.exit_code == 1, result.output
    aws = version("pulumi-aws")
    assert f"needs the Pulumi resource plugin aws v{aws}" in result.output, result.output
    assert f"plugin install resource aws {aws}" in result.output, result.output
    assert "`stageline engine install`" in result.output, result.output
    assert "`stageline plan dev` previews the stage offline" in result.output, result.output
    assert "code: 1" not in result.output and "stdout:" not in result.output, result.output


def test_a_no_op_up_starts_the_engine_once(
    project_dir: Path, engine: InstallReport, tmp_path: Path
) -> None:
    # The engine behind a shim that logs each command: a no-op `up` must be one `pulumi up`,
    # with no version check, stack select, `stack output` or `stack history` around it.
    log = tmp_path / "engine-commands.log"
    shim = tmp_path / "shim" / "bin" / "pulumi"
    shim.parent.mkdir(parents=True)
    shim.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {engine.pulumi} "$@"\n')
    shim.chmod(0o755)

    def up() -> str:
        obj = CliContext(Project(project_dir, make_environment()))
        obj._engine = Engine(InstalledPulumi(shim, engine.version), engine_env())
        result = CliRunner().invoke(cli, ["up", "dev"], obj=obj)
        assert result.exit_code == 0, result.output
        return result.output

    assert "dev: 3 create, release 1.0.0" in up()
    log.unlink()
    assert "dev: 3 same, release 1.0.0" in up()
    commands = log.read_text().splitlines()
    verbs = [next(w for w in c.split() if not w.startswith("-")) for c in commands]
    assert verbs == ["up"], commands
