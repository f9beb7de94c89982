"""What the DR orchestration needs from the outside world, as small interfaces.

`DrEngine` is the engine (deploy, outputs, destroy, list stacks) through the same code paths as
`stageline up` and `stageline destroy`; `stageline.dr.engine.CliDrEngine` is the real one.
`operations` gives a target's runtime operations (components/dr_ops.py). `Clock` is time, so
waits and measurements are tested without sleeping. `DrSeams` bundles them: the CLI builds
the real ones, tests hand fakes in through the CLI context's `dr_seams` attribute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from components.dr_ops import DrOperations, OperationUnavailable, operations_of
from components.targets import target_of


class DrEngine(Protocol):
    def up(self, stage: str, wait: bool = True) -> None:
        """Deploy the stage (creating its stack on demand), with `wait` until its machines are
        healthy where the target can tell: `stageline up STAGE [--no-wait]`."""
        ...

    def wait(self, stage: str) -> None:
        """Wait until the stage's machines are healthy where the target can tell."""
        ...

    def recover(self, stage: str) -> None:
        """`stageline recover STAGE --no-wait`: release the lock of an update that was killed,
        refresh, and converge, so what it made is in state (and a destroy removes it)."""
        ...

    def outputs(self, stage: str) -> Mapping[str, Any]:
        """The stage's stack outputs from the backend, secrets revealed (in memory only)."""
        ...

    def destroy(self, stage: str, force_protected: bool) -> None:
        """`stageline destroy STAGE --yes [--force-protected]`: also removes an ephemeral
        stage's stack and stack file."""
        ...

    def stacks(self) -> list[str]:
        """Names of the project's stacks on the backend."""
        ...


@dataclass(frozen=True)
class Clock:
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def target_operations(target: str) -> DrOperations:
    """The target's runtime operations, named by its `ops` module."""
    try:
        return operations_of(target_of(target).ops)
    except OperationUnavailable as exc:
        raise OperationUnavailable(f"the {target} target: {exc}") from exc


@dataclass(frozen=True)
class DrSeams:
    engine: DrEngine
    operations: Callable[[str], DrOperations] = target_operations
    """Target name -> its operations."""
    clock: Clock = field(default_factory=Clock)
    poll_seconds: float = 5.0
