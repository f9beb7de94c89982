"""One stage's preview on the real engine, as the report's resource-level changes.

`preview --all` runs each stage in its own process (see stageline.ci.preview_all): the
Automation API hosts an inline program in the process that runs it, and Pulumi's runtime is
process state, so two stages previewed at once need two processes.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from stageline.ci.report import OPS, Op, ResourceChange
from stageline.processes import adopt_environment
from stageline.promotion import PLANNED_UPSTREAM_ENV

# Engine step ops -> the change a reviewer counts. A replacement shows up as up to three steps
# (replace, create-replacement, delete-replaced); all are one `replace` of that URN.
_OPS: Mapping[str, Op] = {
    "create": "create",
    "import": "create",
    "update": "update",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "delete": "delete",
}
# Not resources a reviewer changes: the stack itself, and reads of other stacks' outputs
# (a preview against planned outputs drops the read, which is no change to infrastructure).
_NOT_CHANGES = {"pulumi:pulumi:Stack", "pulumi:pulumi:StackReference"}
_RANK: Mapping[Op, int] = {op: i for i, op in enumerate(OPS)}

DataCheck = Callable[[str, "Mapping[str, Any] | None"], bool]
"""(type token, inputs) -> whether the resource holds data (stageline.policy_gate.holds_data)."""
WideningCheck = Callable[[str, str, "Mapping[str, Any] | None", "Mapping[str, Any] | None"], list]
"""(type, urn, old inputs, new inputs) -> what the change widens (stageline.policy_gate.widened)."""


@dataclass
class ChangeCollector:
    """An `on_event` callback that keeps each URN's change, strongest op first."""

    holds_data: DataCheck
    widened: WideningCheck | None = None
    """Given, the collector also keeps what each change widens (ingress, IAM grants)."""
    changes: dict[str, ResourceChange] = field(default_factory=dict)
    widenings: dict[str, list[Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    failure: str | None = None
    """The first event that could not be read: the preview's changes are then incomplete."""

    def __call__(self, event: auto.EngineEvent) -> None:
        # The Automation API only warns when a callback raises, and goes on: a change lost that
        # way would make the summary (and its approval hash) silently short.
        try:
            self._collect(event)
        except Exception as exc:
            self.failure = (
                self.failure or f"cannot read an engine event ({type(exc).__name__}: {exc})"
            )

    def _collect(self, event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is None:
            return
        meta = pre.metadata
        op = _OPS.get(str(getattr(meta.op, "value", meta.op)))
        if op is None or meta.type in _NOT_CHANGES:
            return
        old, new = meta.old, meta.new
        inputs = (new.inputs if new is not None else None) or (old.inputs if old else None)
        change = ResourceChange(
            urn=meta.urn,
            type=meta.type,
            name=meta.urn.rsplit("::", 1)[-1],
            op=op,
            diff=tuple(sorted(meta.diffs or ())),
            replace_keys=tuple(sorted(meta.keys or ())) if op == "replace" else (),
            data=self.holds_data(meta.type, inputs),
            protected=bool(old is not None and old.protect),
        )
        if self.widened is not None and op != "delete":
            found = self.widened(
                meta.type, meta.urn, old.inputs if old else None, new.inputs if new else None
            )
            if found:
                with self._lock:
                    self.widenings[meta.urn] = found
        with self._lock:
            seen = self.changes.get(meta.urn)
            if seen is not None:  # the steps of one replacement: one change, all it says
                change = change.model_copy(
                    update={
                        "op": max(seen.op, op, key=_RANK.__getitem__),
                        "diff": tuple(sorted({*seen.diff, *change.diff})),
                        "replace_keys": tuple(sorted({*seen.replace_keys, *change.replace_keys})),
                        "protected": seen.protected or change.protected,
                    }
                )
            self.changes[meta.urn] = change

    def result(self) -> list[ResourceChange]:
        return sorted(self.changes.values(), key=lambda c: c.urn)

    def widening_list(self) -> list[Any]:
        return [w for urn in sorted(self.widenings) for w in self.widenings[urn]]


def counts(changes: list[ResourceChange]) -> dict[Op, int]:
    found: dict[Op, int] = {}
    for change in changes:
        found[change.op] = found.get(change.op, 0) + 1
    return found


@dataclass(frozen=True)
class EngineResult:
    """What a worker process sends back: plain data only (it crosses a process boundary)."""

    stage: str
    changes: list[ResourceChange] = field(default_factory=list)
    current_release: str | None = None
    error: str | None = None


def _current_release(stack: auto.Stack) -> str | None:
    try:
        outputs = stack.outputs()
    except auto.CommandError:
        return None
    release = outputs.get("release")
    value = release.value if release is not None else None
    return str(value.get("appVersion")) if isinstance(value, dict) else None


def preview_stage(
    root: str,
    stage: str,
    planned_upstream: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> EngineResult:
    """Preview one stage on the engine, in this process. `planned_upstream` maps the upstream
    stage to its planned outputs, for a preview as after the upstream's promotion; `environ` is
    the command's environment (a worker process is handed it, see stageline.processes)."""
    import click

    from stageline.backend import resolve_backend
    from stageline.cli.context import CliContext, engine_errors
    from stageline.policy_gate import holds_data
    from stageline.workspace import Project

    if environ is not None:
        adopt_environment(environ)
    project = Project(Path(root))
    # The command resolved the backend (and printed its warnings) once, not once per stage.
    obj = CliContext(project, resolve_backend(project.root))
    planned_file: str | None = None
    try:
        if planned_upstream:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
                json.dump(planned_upstream, handle)
            planned_file = handle.name
            os.environ[PLANNED_UPSTREAM_ENV] = planned_file
        collector = ChangeCollector(holds_data)
        stack = obj.stack(stage)
        current = _current_release(stack)
        with engine_errors(stage):
            stack.preview(on_event=collector)
        if collector.failure:
            return EngineResult(stage, error=f"{stage}: {collector.failure}")
        return EngineResult(stage, collector.result(), current)
    except click.ClickException as exc:
        return EngineResult(stage, error=exc.format_message())
    except Exception as exc:  # one stage's failure must not lose the others' previews
        return EngineResult(stage, error=f"{type(exc).__name__}: {exc}")
    finally:
        os.environ.pop(PLANNED_UPSTREAM_ENV, None)
        if planned_file:
            Path(planned_file).unlink(missing_ok=True)
