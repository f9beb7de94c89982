"""Runs the real program for one stage, or a whole progression, under mocks and records it."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import itertools
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockEngine
from pulumi.runtime.settings import Settings, configure
from pulumi.runtime.stack import run_in_stack

from stageline import PROJECT
from stageline.graph import StageGraph
from stageline.plan.cache import PlanCache, graph_digest
from stageline.plan.mocks import PlanMocks
from stageline.plan.recorder import PlannedResource, RecordingMonitor
from stageline.stack_files import StackFile

# A DIY backend's organization; StackReference names are built from it.
DIY_ORGANIZATION = "organization"


@dataclass
class StagePlan:
    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    """Stack outputs; secret values stay wrapped so renderers can mask them."""
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


def qualified(stack: str) -> str:
    return f"{DIY_ORGANIZATION}/{PROJECT}/{stack}"


def unwrap_secrets(value: Any) -> Any:
    """A recorded value with its secret markers removed, at any depth."""
    if rpc.is_rpc_secret(value):
        return unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def plain_exports(exports: Mapping[str, Any]) -> dict[str, Any]:
    """Exports with secrets unwrapped, as a StackReference hands them to a downstream program."""
    return {k: unwrap_secrets(v) for k, v in exports.items()}


@contextmanager
def _owned_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop for one plan, and a thread pool whose threads' loops are closed with it.

    Pulumi's mock monitor runs in executor threads and calls `asyncio.get_event_loop()` there,
    which makes a new loop per thread that nobody closes; at interpreter exit those loops'
    finalizers then fail on already-closed self-pipes (`Invalid file descriptor: -1`). Giving
    each worker thread a loop that this plan owns lets the plan close every loop it caused.
    """
    thread_loops: list[asyncio.AbstractEventLoop] = []
    lock = threading.Lock()

    def give_thread_a_loop() -> None:
        thread_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(thread_loop)
        with lock:
            thread_loops.append(thread_loop)

    executor = ThreadPoolExecutor(
        max_workers=4, thread_name_prefix="stageline-plan", initializer=give_thread_a_loop
    )
    try:
        # The caller's loop comes back afterwards: a plan inside a longer-lived process (the
        # tests, an operator command) must not leave it without one.
        previous: asyncio.AbstractEventLoop | None = (
            asyncio.get_event_loop_policy().get_event_loop()
        )
    except RuntimeError:
        previous = None
    loop = asyncio.new_event_loop()
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop(previous if previous and not previous.is_closed() else None)
        loop.close()
        # Join the workers first: a loop is closed only once no thread can still run it.
        executor.shutdown(wait=True)
        for thread_loop in thread_loops:
            thread_loop.close()


def _run(
    stack: StackFile,
    program: Callable[[], None],
    upstreams: Mapping[str, Mapping[str, Any]],
) -> StagePlan:
    plan = StagePlan(stack.name)
    config, secret_keys = stack.pulumi_config()
    set_all_config(config, secret_keys)
    monitor = RecordingMonitor(PlanMocks(upstreams))
    logger = logging.getLogger(f"stageline.plan.{stack.name}")
    logger.propagate = False
    logger.handlers = [_ListHandler(plan.warnings)]
    settings = Settings(
        project=PROJECT,
        stack=stack.name,
        monitor=monitor,
        engine=MockEngine(logger),
        dry_run=False,
        organization=DIY_ORGANIZATION,
    )
    settings.monitor_features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
    configure(settings)
    with _owned_event_loop() as loop:
        try:
            loop.run_until_complete(run_in_stack(program))
        except Exception as exc:
            plan.error = exc
    plan.resources = monitor.planned
    plan.exports = monitor.exports
    return plan


def plan_stage(
    stack: StackFile,
    program: Callable[[], None],
    upstream_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> StagePlan:
    """Plan one stack. `upstream_outputs` maps upstream stack names to their exports.

    Each plan runs in a fresh context: Pulumi's runtime keeps its settings, config and root
    stack in context variables, so stages planned in one process never see each other's state.
    """
    upstreams = {qualified(k): plain_exports(v) for k, v in (upstream_outputs or {}).items()}
    return contextvars.Context().run(_run, stack, program, upstreams)


class PlanFailure(Exception):
    """A stage's error as text, as it comes back from a planner process."""


def _upstream_of(graph: StageGraph, name: str) -> str | None:
    return graph.nodes[name].promotes_from


def _cache_keys(
    graph: StageGraph,
    stacks: Mapping[str, StackFile],
    order: list[str],
    given: Mapping[str, Any],
    cache: PlanCache,
) -> dict[str, str]:
    """Each stage's cache key, for stages whose whole upstream chain is planned offline.

    Outputs the user gave may hold real secrets (`--show-secrets`), so nothing computed from
    them is written to disk.
    """
    digest = graph_digest(graph)
    keys: dict[str, str] = {}
    for name in order:
        upstream = _upstream_of(graph, name)
        if upstream is not None and (upstream in given or upstream not in keys):
            continue
        keys[name] = cache.key(stacks[name], keys.get(upstream or ""), digest)
    return keys


def plan_progression(
    graph: StageGraph,
    stacks: Mapping[str, StackFile],
    program: Callable[[], None],
    wanted: list[str] | None = None,
    given_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    cache: PlanCache | None = None,
    jobs: int = 1,
    reuse: bool = False,
) -> list[StagePlan]:
    """Plan `wanted` stages (default all) and the upstreams they need, upstream first.

    An upstream's outputs come from `given_outputs` when the user passed them, else from
    `cache` when it holds the upstream's outputs for exactly its current inputs, else from the
    upstream's own plan. A stage in `wanted` is always planned. With `jobs` > 1, stages that do
    not depend on each other are planned side by side in separate processes; the plans are the
    same either way. With `reuse`, a stage (one in `wanted` too) whose whole plan the cache holds
    for exactly its current inputs is not planned again: `preview --all` reads the resources of
    every stage, and most stages of a pull request are unchanged.
    """
    given = dict(given_outputs or {})
    shown = list(wanted or graph.order())
    closure: list[str] = []
    for name in shown:
        for stage in [*reversed(graph.ancestors(name)), name]:
            if stage not in closure and (stage == name or stage not in given):
                closure.append(stage)
    order = [s for s in graph.order() if s in closure]
    keys = _cache_keys(graph, stacks, order, given, cache) if cache else {}
    outputs: dict[str, Mapping[str, Any]] = dict(given)

    # Walk up from each shown stage; an upstream found in the cache ends the walk there.
    to_plan: set[str] = set()

    reused: dict[str, StagePlan] = {}

    def need(stage: str) -> None:
        if stage in to_plan or stage in outputs:
            return
        if reuse and cache is not None and stage in keys:
            found = load_plan(cache, keys[stage], stage)
            if found is not None:
                reused[stage] = found
                outputs[stage] = found.exports
                return
        if cache is not None and stage not in shown and stage in keys:
            cached = cache.load(keys[stage])
            if cached is not None:
                outputs[stage] = cached
                return
        to_plan.add(stage)
        upstream = _upstream_of(graph, stage)
        if upstream is not None and upstream in closure:
            need(upstream)

    for name in shown:
        need(name)
    every = [s for s in order if s in to_plan or s in reused]
    order = [s for s in order if s in to_plan]
    upstreams = {name: _upstream_of(graph, name) for name in order}

    def finished(plan: StagePlan) -> None:
        if plan.ok:
            outputs[plan.stack] = plan.exports
            if cache is not None and plan.stack in keys:
                cache.store(keys[plan.stack], plan.exports)
                if reuse:
                    store_plan(cache, keys[plan.stack], plan)

    if jobs > 1 and not _is_chain(order, upstreams):
        from stageline.plan.parallel import plan_in_processes

        targets = {name: graph.nodes[name].target for name in order}
        planned = plan_in_processes(
            order, upstreams, targets, stacks, program, outputs, finished, jobs
        )
        return _in_order(every, planned, reused)

    plans: list[StagePlan] = []
    failed: set[str] = set()
    for name in order:
        upstream = upstreams[name]
        if upstream in failed:
            failed.add(name)
            plans.append(not_planned(name, upstream))
            continue
        ups = {upstream: outputs[upstream]} if upstream and upstream in outputs else {}
        plan = plan_stage(stacks[name], program, ups)
        if not plan.ok:
            failed.add(name)
        finished(plan)
        plans.append(plan)
    return _in_order(every, plans, reused)


def _in_order(
    order: list[str], planned: list[StagePlan], reused: Mapping[str, StagePlan]
) -> list[StagePlan]:
    by_stage = {**reused, **{p.stack: p for p in planned}}
    return [by_stage[name] for name in order]


def store_plan(cache: PlanCache, key: str, plan: StagePlan) -> None:
    """A whole plan (resources, exports, warnings) under `key`, for `reuse` (see
    plan_progression); a plan whose values JSON cannot hold is simply not stored."""
    data = {
        "resources": [dataclasses.asdict(r) for r in plan.resources],
        "exports": plan.exports,
        "warnings": plan.warnings,
    }
    try:
        json.dumps(data)
    except (TypeError, ValueError):
        return
    cache.store(f"{key}-plan", data)


def load_plan(cache: PlanCache, key: str, stack: str) -> StagePlan | None:
    data = cache.load(f"{key}-plan")
    if data is None:
        return None
    try:
        resources = [PlannedResource(**r) for r in data["resources"]]
        return StagePlan(stack, resources, dict(data["exports"]), list(data["warnings"]))
    except (KeyError, TypeError):
        return None  # written by another shape of plan: plan again


def not_planned(name: str, upstream: str | None) -> StagePlan:
    reason = f"not planned: its upstream {upstream!r} failed to plan"
    return StagePlan(name, error=RuntimeError(reason))


def _is_chain(order: list[str], upstreams: Mapping[str, str | None]) -> bool:
    """True when each stage needs the one before it: nothing could run side by side."""
    return all(upstreams[b] == a for a, b in itertools.pairwise(order))
