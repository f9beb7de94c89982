"""CliContext: the engine obtained explicitly, and the one way commands run it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from pulumi import automation as auto

from stageline.automation import InstalledPulumi
from stageline.backend import Backend
from stageline.cli import recover as recover_module
from stageline.cli.context import CliContext
from stageline.cli.main import cli
from stageline.engine.installer import _download_key
from stageline.engine.layout import HOME_ENV, Layout
from stageline.workspace import Engine, Project

BACKEND = Backend(url="file:///tmp/state-of-the-stage", passphrase="pw", default_passphrase=False)


class RecordingPulumi(InstalledPulumi):
    """An engine that records each command, and answers with ``result`` or raises it."""

    def __init__(self, pulumi: Path, result: auto.CommandResult | Exception) -> None:
        super().__init__(pulumi, "3.274.1")
        self.calls: list[tuple[list[str], str, dict[str, str]]] = []
        self.result = result

    def run(self, args: list[str], cwd: str, additional_env: dict[str, str], *rest: Any) -> Any:  # type: ignore[override]
        self.calls.append((list(args), cwd, dict(additional_env)))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def _context(tmp_path: Path, engine: RecordingPulumi) -> CliContext:
    env = {"PULUMI_HOME": "/engine/home", "PULUMI_BACKEND_URL": "file:///engine/default"}
    return CliContext(Project(tmp_path), _backend=BACKEND, _engine=Engine(engine, env))


def test_run_pulumi_runs_in_the_project_with_the_backend_over_the_engine_env(
    tmp_path: Path,
) -> None:
    engine = RecordingPulumi(tmp_path / "pulumi", auto.CommandResult("{}", "", 0))
    obj = _context(tmp_path, engine)

    result = obj.run_pulumi("dev", ["stack", "output", "--json"])

    assert result.stdout == "{}"
    ((args, cwd, env),) = engine.calls
    assert args == ["stack", "output", "--json"]
    assert cwd == str(tmp_path)
    assert env == {
        "PULUMI_HOME": "/engine/home",
        "PULUMI_BACKEND_URL": "file:///tmp/state-of-the-stage",
        "PULUMI_CONFIG_PASSPHRASE": "pw",
    }


def test_run_pulumi_turns_an_engine_failure_into_one_cli_sentence(tmp_path: Path) -> None:
    failure = auto.CommandError(
        auto.CommandResult("", "error: incorrect passphrase\n", 255)  # type: ignore[arg-type]
    )
    obj = _context(tmp_path, RecordingPulumi(tmp_path / "pulumi", failure))

    with pytest.raises(click.ClickException) as caught:
        obj.run_pulumi("qa", ["stack", "output"])

    message = caught.value.message
    assert "stage 'qa'" in message and "PULUMI_CONFIG_PASSPHRASE" in message, message
    assert "stdout:" not in message, message


def test_ensure_engine_takes_the_current_install_without_running_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A current download install: its stamp alone says so, with no `go` and no `pulumi version`.
    layout = Layout.for_home(tmp_path / "home")
    layout.bin_dir.mkdir(parents=True)
    marker = tmp_path / "ran"
    pulumi = layout.bin_dir / "pulumi"
    pulumi.write_text(f"#!/bin/sh\ntouch {marker}\n")
    pulumi.chmod(0o755)
    stamp = {
        "way": "download",
        "key": _download_key(),
        "version": "v3.274.1",
        "files": ["bin/pulumi"],
    }
    layout.stamp.write_text(json.dumps(stamp))
    monkeypatch.setenv(HOME_ENV, str(layout.home))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    obj = CliContext(Project(tmp_path))

    engine = obj.ensure_engine()

    assert engine.command.command == str(pulumi)
    assert str(engine.command.version) == "3.274.1"
    assert engine.env["PULUMI_HOME"] == str(layout.pulumi_home)
    assert obj.ensure_engine() is engine, "a second call must not look for the engine again"
    assert not marker.exists(), "the engine was run to find it"


class FakeStack:
    def __init__(self, cancel_raises: BaseException) -> None:
        self.cancel_raises = cancel_raises
        self.refreshed = False

    def cancel(self) -> None:
        raise self.cancel_raises

    def refresh(self, **kwargs: Any) -> None:
        self.refreshed = True


class FakeContext(CliContext):
    def __init__(self, root: Path, stack: FakeStack) -> None:
        super().__init__(Project(root))
        self.fake = stack

    def stack(self, stage: str, create: bool = True) -> Any:
        return self.fake


def _recover(tmp_path: Path, raised: BaseException, monkeypatch: pytest.MonkeyPatch) -> Any:
    converged: list[str] = []
    monkeypatch.setattr(recover_module, "run_up", lambda obj, stage, *_: converged.append(stage))
    stack = FakeStack(raised)
    result = CliRunner().invoke(cli, ["recover", "dev"], obj=FakeContext(tmp_path, stack))
    return result, stack, converged


def test_recover_goes_on_when_the_engine_has_no_update_to_cancel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_update = auto.CommandError(
        auto.CommandResult("", "error: no update in progress", 255)  # type: ignore[arg-type]
    )
    result, stack, converged = _recover(tmp_path, no_update, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "dev: no update to cancel (" in result.output
    assert stack.refreshed and converged == ["dev"]


def test_recover_does_not_swallow_what_is_not_an_engine_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug (or a lost engine binary) must surface, not pass for "no update to cancel".
    result, stack, converged = _recover(tmp_path, TypeError("a bug"), monkeypatch)
    assert isinstance(result.exception, TypeError), result.output
    assert "no update to cancel" not in result.output
    assert not stack.refreshed and converged == []
