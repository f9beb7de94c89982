"""Plans independent stages side by side, one planner process per core.

Most of a plan's time is importing its target's provider SDK, and one process can only import
one module at a time. Planner processes are forked from a server that has loaded stageline and
Pulumi (so each starts warm; stageline.processes), and a process keeps the SDKs it has
loaded: a stage goes to a process that already holds its target's SDK when one is free, so
each SDK is imported as few times as possible. A stage starts as soon as its upstream's
outputs are known.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from stageline.plan.runner import PlanFailure, StagePlan, not_planned, plan_stage
from stageline.processes import adopt_environment, warm_context
from stageline.stack_files import StackFile


def _portable(plan: StagePlan) -> StagePlan:
    """The plan as it can cross a pipe: its error as text (exceptions do not all pickle)."""
    if plan.error is not None and not isinstance(plan.error, PlanFailure):
        plan.error = PlanFailure(str(plan.error))
    return plan


def _serve(
    conn: Connection,
    stacks: Mapping[str, StackFile],
    program: Callable[[], None],
    environ: Mapping[str, str],
) -> None:
    adopt_environment(environ)
    while True:
        request = conn.recv()
        if request is None:
            return
        name, upstream_outputs = request
        conn.send(_portable(plan_stage(stacks[name], program, upstream_outputs)))


@dataclass
class _Planner:
    process: BaseProcess
    conn: Connection
    loaded: set[str] = field(default_factory=set)
    """Targets whose SDK this process has imported."""
    busy: str | None = None


def _pick(
    planner: _Planner, ready: list[str], targets: Mapping[str, str], others: list[_Planner]
) -> str | None:
    """A stage of a target this process already loaded; else one no other process loaded."""
    for name in ready:
        if targets[name] in planner.loaded:
            return name
    loaded_elsewhere = set().union(*(p.loaded for p in others))
    for name in ready:
        if targets[name] not in loaded_elsewhere:
            return name
    return ready[0] if ready else None


def _can_start(upstream: str | None, outputs: Mapping[str, Any], order: list[str]) -> bool:
    """Its upstream's outputs are known, or will never be (then it plans as it would alone)."""
    return upstream is None or upstream in outputs or upstream not in order


def plan_in_processes(
    order: list[str],
    upstreams: Mapping[str, str | None],
    targets: Mapping[str, str],
    stacks: Mapping[str, StackFile],
    program: Callable[[], None],
    outputs: dict[str, Mapping[str, Any]],
    finished: Callable[[StagePlan], None],
    jobs: int,
) -> list[StagePlan]:
    """Plan `order` (upstream first); `outputs` holds the upstream outputs known beforehand and
    gains each stage's exports through `finished`. Returns the plans in `order`."""
    context = warm_context("stageline.plan.runner", "stageline.program")
    planners: list[_Planner] = []
    for _ in range(min(jobs, len(order))):
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, stacks, program, dict(os.environ)), daemon=True
        )
        process.start()
        theirs.close()
        planners.append(_Planner(process, ours))

    results: dict[str, StagePlan] = {}
    pending = list(order)
    try:
        while pending or any(p.busy for p in planners):
            for name in list(pending):
                upstream = upstreams[name]
                if upstream in results and not results[upstream].ok:
                    results[name] = not_planned(name, upstream)
                    pending.remove(name)
            for planner in planners:
                ready = [n for n in pending if _can_start(upstreams[n], outputs, order)]
                if planner.busy or not ready:
                    continue
                name = _pick(planner, ready, targets, [p for p in planners if p is not planner])
                if name is None:
                    continue
                upstream = upstreams[name]
                given = {upstream: outputs[upstream]} if upstream in outputs else {}
                planner.conn.send((name, given))
                planner.busy = name
                planner.loaded.add(targets[name])
                pending.remove(name)
            busy = [p for p in planners if p.busy]
            if not busy:
                continue
            for conn in wait([p.conn for p in busy]):
                planner = next(p for p in busy if p.conn is conn)
                name = planner.busy
                assert name is not None
                try:
                    plan = conn.recv()
                except EOFError:
                    plan = StagePlan(name, error=PlanFailure("the planner process exited"))
                    planner.conn.close()
                    planners.remove(planner)
                planner.busy = None
                results[name] = plan
                finished(plan)
            if not planners and pending:
                for name in pending:
                    results[name] = StagePlan(name, error=PlanFailure("no planner process left"))
                pending.clear()
    finally:
        for planner in planners:
            with contextlib.suppress(OSError):
                planner.conn.send(None)
        for planner in planners:
            planner.process.join(timeout=10)
            if planner.process.is_alive():
                planner.process.kill()
    return [results[name] for name in order]
