"""A stage's health as its target reports it, and waiting for it after `up`.

Target-neutral: the stage's target names the module that looks inside its machines
(components/targets.py `health`); a target without one has nothing to report or wait for.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any

from components.health import SETUP_FAILED, MachineHealth, StageHealth
from components.targets import is_target, target_of
from stageline.model import stage_keys
from stageline.workspace import Project

POLL_SECONDS = 5.0


class SetupFailed(Exception):
    """A machine's setup failed: waiting longer cannot help."""

    def __init__(self, health: StageHealth) -> None:
        self.health = health
        lines = [f"{m.name}: setup failed at step {m.step!r}" for m in health.failed]
        super().__init__("; ".join(lines))


class NotHealthy(Exception):
    """The timeout passed before every machine was healthy."""

    def __init__(self, health: StageHealth, timeout: float) -> None:
        self.health = health
        waiting = [describe(m) for m in health.machines if not m.healthy]
        super().__init__(
            f"not healthy after {timeout:.0f} s: " + ("; ".join(waiting) or "no machines found")
        )


def health_reader(project: Project, stage: str) -> Callable[[], StageHealth] | None:
    """How to ask the stage's target about its machines; None if the target cannot. A stack
    file whose target or target section is invalid raises ValueError saying what is wrong."""
    stack = project.stack_file(stage)
    target_name = stage_keys(stack.values).target
    if target_name is None or not is_target(target_name):
        raise ValueError(
            f"stage {stage!r} names no known target; run `stageline plan {stage}` to see why"
        )
    target = target_of(target_name)
    if not target.health:
        return None
    section = target.resolve_paths(stack.values.get(target_name) or {}, project.root)
    settings = target.validated_settings(section)
    module: Any = importlib.import_module(target.health)
    return lambda: module.stage_health(stack.name, settings)


def describe(m: MachineHealth) -> str:
    """One machine's state in a few words."""
    if not m.running:
        return f"{m.name} stopped"
    if m.setup == SETUP_FAILED:
        return f"{m.name} setup failed at {m.step!r}"
    if not m.healthy:
        what = m.problem or (f"{m.setup} ({m.step})" if m.step else m.setup)
        return f"{m.name} {what}"
    return f"{m.name} healthy"


def wait_healthy(
    read: Callable[[], StageHealth],
    timeout: float,
    progress: Callable[[str], None],
    poll: float = POLL_SECONDS,
) -> StageHealth:
    """Poll until every machine is healthy; a failed setup or the timeout raises. Progress is
    reported when it changes, not on every poll."""
    end = time.monotonic() + timeout
    start = time.monotonic()
    last = ""
    while True:
        health = read()
        if health.failed:
            raise SetupFailed(health)
        if health.healthy:
            return health
        line = ", ".join(describe(m) for m in health.machines) or "no machines yet"
        if line != last:
            progress(f"  [{time.monotonic() - start:4.0f} s] {line}")
            last = line
        if time.monotonic() > end:
            raise NotHealthy(health, timeout)
        time.sleep(poll)
