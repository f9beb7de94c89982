"""The Automation API internals stageline relies on (stageline/automation.py), and what it builds
on them. These fail loudly when an SDK upgrade changes what a no-op `up` depends on."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation import _stack as sdk_stack

from stageline.automation import (
    InstalledPulumi,
    StageWorkspace,
    _Collector,
    stack_outputs,
    up_once,
)
from stageline.backend import Backend
from stageline.workspace import stack_in_state

ROOT = Path(__file__).resolve().parents[2]


def params(func: Any) -> list[str]:
    return list(inspect.signature(func).parameters)


def test_the_sdk_still_has_the_helpers_up_once_uses() -> None:
    assert params(auto.Stack._setup_event_log) == ["self", "command", "on_event", "pulumi_version"]
    assert params(auto.Stack._run_pulumi_cmd_sync)[:2] == ["self", "args"]
    assert params(sdk_stack._cleanup) == [
        "temp_dir",
        "thread",
        "stop_event",
        "on_exit_fn",
        "grpc_server",
    ]
    assert sdk_stack.ExecKind.INLINE.value == "auto.inline"
    # The SDK's own up() still builds its flags the way up_once copies them.
    source = inspect.getsource(auto.Stack.up)
    for needle in ('"up", "--yes", "--skip-preview"', "--client=127.0.0.1:", '"--event-log"'):
        assert needle in source, f"Stack.up no longer has {needle}: review stageline/automation.py"


def test_the_event_log_helper_returns_what_up_once_unpacks() -> None:
    setup = auto.Stack._setup_event_log(None, "up", lambda event: None, "3.274.1")  # type: ignore[arg-type]
    assert len(setup) == 5, setup
    log, thread, stop, temp_dir, server = setup
    try:
        assert isinstance(log, str) and log
    finally:
        sdk_stack._cleanup(temp_dir, thread, stop, None, server)


def test_installed_pulumi_never_runs_the_engine_for_its_version(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ntouch {marker}\necho v0.0.1\n")
    fake.chmod(0o755)
    command = InstalledPulumi(fake, "v3.274.1")
    workspace = auto.LocalWorkspace(work_dir=str(tmp_path), pulumi_command=command)
    assert workspace.pulumi_version == "3.274.1"
    assert command.command == str(fake)
    assert not marker.exists(), "the constructor ran `pulumi version`"


def test_an_unreadable_version_falls_back_to_asking_the_engine(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho v3.274.1\n")
    fake.chmod(0o755)
    assert str(InstalledPulumi(fake, "dev-build").version) == "3.274.1"


class RecordingPulumi(InstalledPulumi):
    """An engine that records each command instead of running it."""

    def __init__(self, pulumi: Path, version: str) -> None:
        super().__init__(pulumi, version)
        self.calls: list[list[str]] = []

    def run(self, args: list[str], *rest: Any, **kwargs: Any) -> auto.CommandResult:  # type: ignore[override]
        self.calls.append(list(args))
        return auto.CommandResult(stdout="", stderr="", code=0)


@pytest.mark.parametrize(("known", "selects"), [(True, False), (False, True)])
def test_a_known_stack_is_not_selected(tmp_path: Path, known: bool, selects: bool) -> None:
    engine = RecordingPulumi(tmp_path / "pulumi", "3.274.1")
    workspace = StageWorkspace(
        known=lambda name: known, work_dir=str(tmp_path), pulumi_command=engine
    )
    stack = auto.Stack.select("dev", workspace)
    stack.cancel()
    selected = [c for c in engine.calls if c[:2] == ["stack", "select"]]
    assert bool(selected) is selects, engine.calls
    # Each command names its stack itself, selected or not.
    assert engine.calls[-1] == ["cancel", "--yes", "--stack", "dev"], engine.calls


def file_backend(url: str) -> Backend:
    return Backend(url, "pass", False)


def test_the_file_backend_shows_which_stacks_exist(tmp_path: Path) -> None:
    backend = file_backend(f"file://{tmp_path}")
    assert not stack_in_state(backend, "dev")
    stacks = tmp_path / ".pulumi" / "stacks" / "stageline"
    stacks.mkdir(parents=True)
    (stacks / "dev.json").write_text("{}")
    (stacks / "qa.json.gz").write_bytes(b"")
    assert stack_in_state(backend, "dev")
    assert stack_in_state(backend, "qa")
    assert not stack_in_state(backend, "test")
    # Other backends (and file URLs with options) are asked through the engine.
    assert not stack_in_state(file_backend("s3://bucket"), "dev")
    assert not stack_in_state(file_backend(f"file://{tmp_path}?no_legacy_warning"), "dev")


def event(body: Mapping[str, Any]) -> auto.EngineEvent:
    return auto.EngineEvent.from_json({"sequence": 1, "timestamp": 0, **body})


def outputs_event(type_: str, outputs: Mapping[str, Any]) -> auto.EngineEvent:
    step = {"type": type_, "urn": f"urn:pulumi:dev::stageline::{type_}::x", "outputs": outputs}
    meta = {"op": "same", "urn": step["urn"], "type": type_, "provider": "", "new": step}
    return event({"resOutputsEvent": {"metadata": meta}})


def test_the_collector_keeps_the_summary_and_the_stack_outputs_and_forwards_all() -> None:
    seen: list[auto.EngineEvent] = []
    collector = _Collector(seen.append)
    release = {"appVersion": "1.2.3"}
    events = [
        outputs_event("stageline:test:Data", {"release": {"appVersion": "wrong"}}),
        outputs_event("pulumi:pulumi:Stack", {"release": release, "password": "[secret]"}),
        event({"summaryEvent": {"resourceChanges": {"same": 3}, "durationSeconds": 1}}),
    ]
    for e in events:
        collector(e)
    assert seen == events
    assert collector.outcome.changes == {"same": 3}
    assert collector.outcome.outputs["release"].value == release
    password = collector.outcome.outputs["password"]
    assert password.secret and password.value is None
    assert collector.saw_summary and collector.saw_outputs


def test_secret_outputs_stay_masked() -> None:
    out = stack_outputs({"a": "[secret]", "b": 1})
    assert (out["a"].secret, out["a"].value) == (True, None)
    assert (out["b"].secret, out["b"].value) == (False, 1)


def test_up_once_needs_an_inline_program(tmp_path: Path) -> None:
    engine = RecordingPulumi(tmp_path / "pulumi", "3.274.1")
    workspace = StageWorkspace(
        known=lambda name: True, work_dir=str(tmp_path), pulumi_command=engine
    )
    with pytest.raises(ValueError, match="no inline program"):
        up_once(auto.Stack.select("dev", workspace))


def test_up_imports_only_its_own_command() -> None:
    # A fresh process: this one has imported every command already.
    probe = (
        "import sys\n"
        "from stageline.cli.main import cli\n"
        "cli(['up', '--help'], standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.startswith('stageline.cli.')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = json.loads(proc.stdout.strip().splitlines()[-1].replace("'", '"'))
    assert "stageline.cli.up" in loaded
    for other in ("stageline.cli.plan", "stageline.cli.graph", "stageline.cli.destroy"):
        assert other not in loaded, proc.stdout


def test_help_still_lists_every_command() -> None:
    from click.testing import CliRunner

    from stageline.cli.main import COMMANDS, cli

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    for name in COMMANDS:
        assert f"  {name} " in result.output, result.output
