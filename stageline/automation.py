"""The few places where stageline reaches past the Automation API's public surface, and why.

A no-op `stageline up` used to start the engine five times where `pulumi up` starts it once:
`pulumi version` (PulumiCommand's constructor), `pulumi stack select`, the update, and then
`Stack.up()` always runs `pulumi stack output` and `pulumi stack history` to build its result.
Each start costs a few hundred milliseconds, more than the update of an unchanged stage.

- ``InstalledPulumi``: the bootstrap already knows the installed engine's version, so the
  constructor's `pulumi version` is skipped (``command`` and ``version`` are the attributes the
  SDK reads).
- ``StageWorkspace``: every command the SDK runs for a stack passes ``--stack`` itself, so a
  stack the state is known to hold needs no `pulumi stack select`.
- ``up_once``: the update, run once, with its summary and the root stack's outputs taken from
  the engine's event stream instead of the two extra commands. It follows ``Stack.up()`` and
  uses its private helpers; tests/unit/test_automation_internals.py fails loudly if they change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from pulumi import automation as auto
from pulumi.automation import _stack as sdk_stack
from pulumi.automation._server import LanguageServer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import language_pb2_grpc
from semver import VersionInfo

STACK_TYPE = "pulumi:pulumi:Stack"
SECRET_SENTINEL = "[secret]"


class InstalledPulumi(auto.PulumiCommand):
    """The installed engine at a version the bootstrap already read: no `pulumi version` run."""

    def __init__(self, pulumi: Path, version: str) -> None:
        # No super().__init__(): it would run `pulumi version` (see the module's docstring).
        try:
            parsed = VersionInfo.parse(version.removeprefix("v"))
        except ValueError:
            # A version the bootstrap could not read: let the SDK ask the engine itself.
            super().__init__(root=str(pulumi.parent.parent), skip_version_check=True)
            return
        self.command = str(pulumi)
        self.version = parsed


class StageWorkspace(auto.LocalWorkspace):
    """A LocalWorkspace that skips `pulumi stack select` for stacks known to exist.

    ``known`` answers True only when it is sure (e.g. the file backend holds the stack's
    checkpoint); otherwise the select runs, and its StackNotFoundError still drives
    ``Stack.create_or_select`` and the CLI's "run `stageline up` first" message.
    """

    def __init__(self, known: Callable[[str], bool], **options: Any) -> None:
        super().__init__(**options)
        self._known = known

    def select_stack(self, stack_name: str) -> None:
        if not self._known(stack_name):
            super().select_stack(stack_name)


@dataclass
class UpOutcome:
    """What an update reports: resource changes by operation and the root stack's outputs."""

    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, auto.OutputValue] = field(default_factory=dict)
    stdout: str = ""


def stack_outputs(values: Mapping[str, Any]) -> dict[str, auto.OutputValue]:
    """The engine's display of the stack's outputs, secrets masked as in `pulumi stack output`."""
    return {
        key: auto.OutputValue(None, True)
        if value == SECRET_SENTINEL
        else auto.OutputValue(value, False)
        for key, value in values.items()
    }


class _Collector:
    """Forwards each event and keeps the summary and the root stack's outputs."""

    def __init__(self, on_event: Callable[[auto.EngineEvent], Any] | None) -> None:
        self.on_event = on_event
        self.outcome = UpOutcome()
        self.saw_summary = False
        self.saw_outputs = False

    def __call__(self, event: auto.EngineEvent) -> None:
        if event.summary_event is not None:
            changes = event.summary_event.resource_changes or {}
            self.outcome.changes = {str(k): int(v) for k, v in changes.items()}
            self.saw_summary = True
        elif event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            if meta.type == STACK_TYPE and meta.new is not None:
                self.outcome.outputs = stack_outputs(meta.new.outputs or {})
                self.saw_outputs = True
        if self.on_event is not None:
            self.on_event(event)


def up_once(
    stack: auto.Stack,
    on_event: Callable[[auto.EngineEvent], Any] | None = None,
    warm: Callable[[], None] | None = None,
    refresh: bool = False,
    message: str | None = None,
) -> UpOutcome:
    """`pulumi up --skip-preview` of the stack's inline program: one engine run, as Stack.up().

    ``refresh`` reads every resource's real state first (`up --refresh`), so that what an
    operation changed outside the engine (a promoted replica) is what the update starts from.
    ``message`` is the update's message in the stack's history (stageline.gates.record).
    ``warm`` runs in a thread while the engine starts (it takes a few hundred milliseconds
    before it calls the program), e.g. to import the program's modules. The program waits for
    it, so no module is ever imported by two threads at once.
    """
    inline = stack.workspace.program
    if inline is None:
        raise ValueError(f"stack {stack.name!r} has no inline program to run")
    program = inline
    if warm is not None:
        warming = threading.Thread(target=warm, name="stageline-warm", daemon=True)

        def program() -> None:
            warming.join()
            inline()

        warming.start()
    collector = _Collector(on_event)
    # The inline program runs in this process behind a language server, as in Stack.up().
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_GRPC_CHANNEL_OPTIONS)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
    port = server.add_insecure_port(address="127.0.0.1:0")
    server.start()
    args = ["up", "--yes", "--skip-preview", f"--client=127.0.0.1:{port}"]
    if refresh:
        args.append("--refresh")
    if message is not None:
        args += ["--message", message]
    args += ["--exec-kind", sdk_stack.ExecKind.INLINE.value]
    log, thread, stop, temp_dir, events_server = stack._setup_event_log(
        "up", collector, stack.workspace.pulumi_version
    )
    args += ["--event-log", log]
    try:
        result = stack._run_pulumi_cmd_sync(args)
    finally:
        sdk_stack._cleanup(temp_dir, thread, stop, lambda: server.stop(0), events_server)
    outcome = collector.outcome
    outcome.stdout = result.stdout
    # Both events come from every successful update; should an engine ever omit one, ask for it
    # the slow way rather than report "no changes" or lose the release.
    if not collector.saw_summary:
        info = stack.info()
        outcome.changes = dict((info.resource_changes if info else None) or {})
    if not collector.saw_outputs:
        outcome.outputs = dict(stack.outputs())
    return outcome
