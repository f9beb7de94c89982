"""Runs the real program for one stage, or a whole progression, under mocks and records it."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockEngine
from pulumi.runtime.settings import Settings, configure
from pulumi.runtime.stack import run_in_stack

from stageline import PROJECT
from stageline.graph import StageGraph
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
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(program))
    except Exception as exc:
        plan.error = exc
    finally:
        loop.close()
        asyncio.set_event_loop(None)
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


def plan_progression(
    graph: StageGraph,
    stacks: Mapping[str, StackFile],
    program: Callable[[], None],
    wanted: list[str] | None = None,
    given_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[StagePlan]:
    """Plan `wanted` stages (default all) and the upstreams they need, upstream first.

    An upstream's outputs come from `given_outputs` when the user passed them, else from the
    upstream's own plan.
    """
    given = dict(given_outputs or {})
    needed: list[str] = []
    for name in wanted or graph.order():
        for stage in [*reversed(graph.ancestors(name)), name]:
            if stage not in needed and (stage == name or stage not in given):
                needed.append(stage)
    order = [s for s in graph.order() if s in needed]
    outputs: dict[str, Mapping[str, Any]] = dict(given)
    plans: list[StagePlan] = []
    failed: set[str] = set()
    for name in order:
        upstream = graph.nodes[name].promotes_from
        if upstream in failed:
            failed.add(name)
            reason = f"not planned: its upstream {upstream!r} failed to plan"
            plans.append(StagePlan(name, error=RuntimeError(reason)))
            continue
        ups = {upstream: outputs[upstream]} if upstream and upstream in outputs else {}
        plan = plan_stage(stacks[name], program, ups)
        if plan.ok:
            outputs[name] = plan.exports
        else:
            failed.add(name)
        plans.append(plan)
    return plans
