"""What runs inside a stage's machines, as a target reports it (`stageline status`, `up --wait`).

Targets that can look inside their machines name a module in their Target entry (`health`)
whose `stage_health(stack, settings)` returns a StageHealth; shared code only reads these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A machine's setup: "running" (with its step), done or failed. A target's probe inside the
# guest (components/libvirt/guest_probe.py) writes these words without importing them.
SETUP_DONE = "done"
SETUP_FAILED = "failed"
SETUP_BOOTING = "booting"
"""The machine runs but cannot be asked yet (its agent is not up)."""


class HealthUnavailable(RuntimeError):
    """The stage's machines cannot be asked at all (their host does not answer): the message
    names the host and why."""


@dataclass(frozen=True)
class DatabaseState:
    role: str
    """primary or standby."""
    replication: str = ""
    """Primary: its standbys and their state; standby: its receiver's status."""
    lag_bytes: int | None = None
    """WAL the standby has not replayed yet (primary: the largest of its standbys)."""
    lag_seconds: float | None = None
    """Standby: time since the last replayed transaction (None when idle or unknown)."""


@dataclass(frozen=True)
class MachineHealth:
    name: str
    role: str
    """app or database."""
    running: bool
    setup: str = SETUP_BOOTING
    step: str = ""
    """The setup step running, or the one that failed."""
    detail: str = ""
    """Why it failed, from the guest's log."""
    kind: str = ""
    """How it runs (e.g. the hypervisor's domain type)."""
    app: dict[str, Any] | None = None
    """The application's own health answer (GET /healthz), as it reports it."""
    app_status: int | None = None
    """The HTTP status of that answer."""
    database: DatabaseState | None = None
    problem: str = ""
    """Why a machine that finished its setup is not healthy."""

    @property
    def healthy(self) -> bool:
        return self.running and self.setup == SETUP_DONE and not self.problem


@dataclass(frozen=True)
class StageHealth:
    machines: list[MachineHealth] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the operator should know about how the machines run (e.g. a slow fallback)."""

    @property
    def healthy(self) -> bool:
        return bool(self.machines) and all(m.healthy for m in self.machines)

    @property
    def failed(self) -> list[MachineHealth]:
        return [m for m in self.machines if m.setup == SETUP_FAILED]
