"""Engine events as progress lines: counts, the current step and elapsed time, not raw logs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pulumi import automation as auto

STACK_TYPE = "pulumi:pulumi:Stack"
QUIET_OPS = {"same", "read"}


@dataclass
class Progress:
    echo: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic
    started_at: float = field(default=0.0)
    seen: int = 0
    done: int = 0
    changed: int = 0
    failed: int = 0
    summary: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def _stamp(self) -> str:
        elapsed = int(self.clock() - self.started_at)
        return f"[{elapsed // 60:02d}:{elapsed % 60:02d}]"

    def __call__(self, event: auto.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            if meta.type == STACK_TYPE:
                return
            self.seen += 1
            op = str(getattr(meta.op, "value", meta.op))
            if op not in QUIET_OPS:
                self.changed += 1
                name = meta.urn.rsplit("::", 1)[-1]
                self.echo(f"{self._stamp()} {self.done}/{self.seen} {op} {meta.type} {name}")
        elif event.res_outputs_event is not None:
            if event.res_outputs_event.metadata.type != STACK_TYPE:
                self.done += 1
        elif event.res_op_failed_event is not None:
            self.failed += 1
        elif event.diagnostic_event is not None:
            diag = event.diagnostic_event
            repeated = diag.message.startswith(("an unhandled error occurred", "update failed"))
            if diag.severity in ("warning", "error") and not diag.ephemeral and not repeated:
                self.echo(f"{self._stamp()} {diag.severity}: {diag.message.strip()}")
        elif event.summary_event is not None:
            changes = event.summary_event.resource_changes or {}
            self.summary = {str(k): int(v) for k, v in changes.items()}
            self.echo(
                f"{self._stamp()} done: {format_changes(self.summary)} "
                f"({self.done} resources, {self.failed} failed)"
            )


def format_changes(changes: dict[str, int] | None) -> str:
    if not changes:
        return "no changes"
    return ", ".join(f"{count} {op}" for op, count in sorted(changes.items()))
