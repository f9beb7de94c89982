"""`preview --all`: every selected stage previewed, in graph order, as one report.

Each stage is first planned offline (the offline planner chains plans, and caches them): that
plan is what the policies and the parity check read, and it gives each stage's planned
outputs. Then every stage whose provider plugins the engine has is previewed on the real
engine against its state, independent stages side by side. A stage whose upstream has pending
changes is previewed against that upstream's planned outputs: as it will be once the upstream
is applied and its release promoted. A stage the engine cannot preview here keeps its offline
plan, and the report says so.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.errors import ConfigError
from stageline.ci.approval import digest
from stageline.ci.engine_preview import EngineResult, counts, preview_stage
from stageline.ci.report import (
    ParityItem,
    PreviewReport,
    ReleaseChange,
    ResourceChange,
    Selection,
    StageReport,
    Violation,
)
from stageline.config import StageConfig, file_config
from stageline.graph import StageGraph
from stageline.plan.cache import PlanCache
from stageline.plan.recorder import PlannedResource
from stageline.plan.runner import StagePlan, plain_exports, plan_progression
from stageline.policy_gate import holds_data
from stageline.processes import warm_context
from stageline.program import deploy
from stageline.stack_files import StackFile

# Packages of resource types that need no provider plugin: the engine's own, the template's
# components, and Python dynamic providers (served by the language host).
_BUILT_IN = {"pulumi", "stageline", "pulumi-python"}

PolicyCheck = Callable[[StagePlan], list[Violation]]
ParityCheck = Callable[[StagePlan, StagePlan, StageConfig, StageConfig], list[ParityItem]]


@dataclass(frozen=True)
class Checks:
    """What is checked on each stage's offline plan besides its changes."""

    policy: PolicyCheck | None = None
    parity: ParityCheck | None = None


def needed_plugins(plan: StagePlan) -> set[str]:
    """The resource plugins (by provider name) a stage's resources need."""
    return {r.type.partition(":")[0] for r in plan.resources} - _BUILT_IN


def installed_plugins(pulumi_home: Path) -> set[str]:
    """Provider names with a resource plugin in PULUMI_HOME, or on PATH as the engine finds it."""
    found = {
        entry.name.removeprefix("resource-").rpartition("-v")[0]
        for entry in (pulumi_home / "plugins").glob("resource-*")
        if entry.is_dir()
    }
    return found


def missing_plugins(plan: StagePlan, pulumi_home: Path) -> list[str]:
    have = installed_plugins(pulumi_home)
    return sorted(p for p in needed_plugins(plan) if p not in have and not _on_path(p))


def _on_path(provider: str) -> bool:
    return shutil.which(f"pulumi-resource-{provider}") is not None


def _planned_release(plan: StagePlan) -> str | None:
    release = plain_exports(plan.exports).get("release")
    return str(release.get("appVersion")) if isinstance(release, dict) else None


def _offline_changes(plan: StagePlan) -> list[ResourceChange]:
    """The whole stage as planned: without its state, every resource is shown as a create."""
    return sorted(
        (
            ResourceChange(
                urn=r.urn,
                type=r.type,
                name=r.name,
                op="create",
                data=holds_data(r.type, r.inputs),
            )
            for r in plan.resources
            if r.custom and not _is_read(r)
        ),
        key=lambda c: c.urn,
    )


def _is_read(resource: PlannedResource) -> bool:
    return resource.type == "pulumi:pulumi:StackReference"


@dataclass
class _Stage:
    name: str
    target: str
    config: StageConfig | None
    plan: StagePlan | None
    upstream: str | None
    engine: bool = False
    note: str = ""
    result: EngineResult | None = None
    chained_from: str | None = None


Previewer = Callable[[str, str, Mapping[str, Any] | None, Mapping[str, str]], EngineResult]
"""(project root, stage, planned upstream outputs or None, environment) -> its preview."""


def run_engine_previews(
    stages: Mapping[str, _Stage],
    root: Path,
    jobs: int,
    previewer: Previewer = preview_stage,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Preview the engine stages, `jobs` at a time (a preview mostly waits on the engine and
    the hosts, so more than one per core).

    Every stage starts at once, against its upstream's applied outputs: in most pull requests
    an upstream has nothing pending, and waiting for it would chain previews that do not depend
    on each other. When an upstream turns out to have pending changes, its downstream stage is
    previewed again against the upstream's planned outputs, and only that preview counts.
    """
    engine = [s for s in stages.values() if s.engine]
    if not engine:
        return
    context = warm_context(previewer.__module__)
    environ = dict(os.environ)
    running: dict[Future[EngineResult], tuple[_Stage, bool]] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(engine)), mp_context=context) as pool:

        def submit(stage: _Stage, planned: Mapping[str, Any] | None) -> None:
            how = f" against {stage.chained_from}'s planned outputs" if planned else ""
            progress(f"{stage.name}: previewing on the engine{how}")
            try:
                running[pool.submit(previewer, str(root), stage.name, planned, environ)] = (
                    stage,
                    planned is not None,
                )
            except BrokenProcessPool as exc:
                stage.result = EngineResult(stage.name, error=f"the preview process: {exc}")

        for stage in engine:
            submit(stage, None)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                stage, chained = running.pop(future)
                if future.cancelled() or chained != (stage.chained_from is not None):
                    continue  # a preview against the applied outputs, superseded
                try:
                    stage.result = future.result()
                except Exception as exc:  # a worker that died takes only its stage
                    stage.result = EngineResult(stage.name, error=f"the preview process: {exc}")
                progress(f"{stage.name}: {_said(stage.result)}")
                if not _pending(stage) or stage.plan is None:
                    continue
                planned = {stage.name: plain_exports(stage.plan.exports)}
                for below in engine:
                    if below.upstream == stage.name and below.chained_from is None:
                        below.chained_from = stage.name
                        below.result = None
                        for waiting, (owner, _) in running.items():
                            if owner is below:
                                waiting.cancel()  # not started yet: no need to run it
                        submit(below, planned)


def _pending(stage: _Stage) -> bool:
    """The stage will change when applied: downstream stages see its planned outputs."""
    if stage.engine:
        return (
            stage.result is not None and stage.result.error is None and bool(stage.result.changes)
        )
    return False


def _said(result: EngineResult) -> str:
    if result.error:
        return "failed"
    found = counts(result.changes)
    return ", ".join(f"{n} {op}" for op, n in found.items()) or "no changes"


def _report(stage: _Stage, checks: Checks, stages: Mapping[str, _Stage]) -> StageReport:
    config = stage.config
    plan = stage.plan if config is not None else None
    source = "engine" if stage.engine else "offline"
    error: str | None = None
    changes: list[ResourceChange] = []
    current: str | None = None
    if stage.plan is None or not stage.plan.ok:
        error = f"offline plan failed: {stage.plan.error if stage.plan else 'not planned'}"
    if stage.engine and stage.result is not None:
        if stage.result.error:
            error = stage.result.error
        changes, current = stage.result.changes, stage.result.current_release
    elif plan is not None and plan.ok:
        changes = _offline_changes(plan)
    violations: list[Violation] = []
    parity: list[ParityItem] = []
    if plan is not None and plan.ok and config is not None:
        if checks.policy is not None:
            violations = checks.policy(plan)
        peer = stages.get(stage.upstream or "")
        if checks.parity and peer and peer.config and peer.plan and peer.plan.ok:
            parity = checks.parity(plan, peer.plan, config, peer.config)
    release = None
    planned = _planned_release(plan) if plan is not None and plan.ok else None
    if planned is not None and config is not None:
        how = "pinned" if config.release_pin is not None else f"promoted from {stage.upstream}"
        release = ReleaseChange(current=current, planned=planned, source=how)
    return StageReport(
        stage=stage.name,
        target=stage.target,
        source=source,
        note=stage.note,
        error=error,
        counts=counts(changes),
        changes=tuple(changes),
        violations=tuple(violations),
        parity=tuple(parity),
        release=release,
        chained_from=stage.chained_from,
        digest=digest(changes, planned),
    )


def preview_all(
    root: Path,
    graph: StageGraph,
    stacks: Mapping[str, StackFile],
    selection: Selection,
    pulumi_home: Path | None,
    jobs: int,
    checks: Checks = Checks(),
    cache: PlanCache | None = None,
    previewer: Previewer = preview_stage,
    progress: Callable[[str], None] = lambda _: None,
) -> PreviewReport:
    """The report for `selection.stages`. `pulumi_home` None: no engine here, offline only."""
    selected = list(selection.stages)
    if not selected:
        return PreviewReport(selection=selection)
    # Each stage's upstream is planned too: the parity check compares the two.
    peers = [u for s in selected if (u := graph.nodes[s].promotes_from) is not None]
    wanted = [s for s in graph.order() if s in selected or s in peers]
    progress(f"planning {len(wanted)} stages offline")
    plans = {
        p.stack: p
        for p in plan_progression(
            graph,
            stacks,
            functools.partial(deploy, root / "stacks", offline=True),
            wanted,
            cache=cache,
            # Planning is CPU-bound: at most one planner process per core.
            jobs=min(jobs, os.cpu_count() or 1),
            reuse=True,
        )
    }
    stages: dict[str, _Stage] = {}
    for name in wanted:
        plan = plans.get(name)
        try:
            config = file_config(stacks[name])
        except ConfigError as exc:  # the plan failed on it too; the report says why
            plan = StagePlan(name, error=exc)
            config = None
        stage = _Stage(
            name, graph.nodes[name].target, config, plan, graph.nodes[name].promotes_from
        )
        if name in selected and plan is not None and plan.ok:
            missing = missing_plugins(plan, pulumi_home) if pulumi_home else ["(no engine)"]
            stage.engine = not missing
            if missing and pulumi_home:
                stage.note = (
                    f"no {', '.join(missing)} provider plugin in the engine here: "
                    "not compared with its state"
                )
            elif missing:
                stage.note = "no engine here: not compared with its state"
        stages[name] = stage
    run_engine_previews(
        {n: s for n, s in stages.items() if n in selected}, root, jobs, previewer, progress
    )
    return PreviewReport(
        selection=selection,
        stages=tuple(_report(stages[n], checks, stages) for n in wanted if n in selected),
    )
