"""The body of `preview --all`: select the stages, preview them, print and keep the report."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click

from components.errors import ConfigError
from stageline.ci.preview_all import Checks, preview_all
from stageline.ci.report import PreviewReport, Selection, Violation
from stageline.cli.context import CliContext
from stageline.graph import StageGraph, load_stage_graph
from stageline.plan.cache import PlanCache
from stageline.plan.runner import StagePlan
from stageline.stack_files import StackFile


def every_stage(graph: StageGraph) -> Selection:
    order = tuple(graph.order())
    return Selection(
        stages=order,
        reasons=dict.fromkeys(order, "--all"),
        summary=f"all {len(order)} stages",
    )


def default_checks(graph: StageGraph, stacks: Mapping[str, StackFile]) -> Checks:
    from stageline.ci.parity import compare
    from stageline.policy_gate import context_for, evaluate_plan, stage_names

    names = stage_names(stacks)

    def policy(plan: StagePlan) -> list[Violation]:
        return evaluate_plan(plan, context_for(graph, plan.stack, names.get(plan.stack)))

    return Checks(policy=policy, parity=compare)


def render(report: PreviewReport, fmt: str) -> str:
    if fmt == "json":
        return report.model_dump_json(indent=2)
    from stageline.ci.markdown import render_summary, render_text

    return render_summary(report) if fmt == "markdown" else render_text(report)


def run_preview_all(obj: CliContext, base: str | None, jobs: int, fmt: str, output: Path) -> None:
    root = obj.project.root
    try:
        graph = load_stage_graph(obj.project.stacks_dir)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if base is None:
        selection = every_stage(graph)
    else:
        from stageline.ci.changes import select_changed  # its errors are CLI errors

        selection = select_changed(graph, root, base, obj.project.stacks_dir)

    def progress(line: str) -> None:
        click.echo(line, err=True)

    pulumi_home: Path | None = None
    if selection.stages:
        try:
            pulumi_home = Path(obj.ensure_engine().env["PULUMI_HOME"])
        except click.ClickException as exc:
            progress(f"no engine: every stage is planned offline ({exc.format_message()})")
        obj.backend  # noqa: B018 - resolve (and report) the backend once, not in each worker
    stacks = obj.project.stack_files()
    report = preview_all(
        root,
        graph,
        stacks,
        selection,
        pulumi_home,
        jobs,
        default_checks(graph, stacks),
        PlanCache.for_project(root),
        progress=progress,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report.model_dump_json(indent=2) + "\n")
    click.echo(render(report, fmt))
    failed = [s.stage for s in report.stages if not s.ok]
    blocked = sorted(
        {s.stage for s in report.stages for v in s.violations if v.level == "mandatory"}
    )
    if failed or blocked:
        reasons = []
        if failed:
            reasons.append(f"stages that could not be previewed: {', '.join(failed)}")
        if blocked:
            reasons.append(f"mandatory policy violations in: {', '.join(blocked)}")
        raise click.ClickException("; ".join(reasons) + f" (report: {output})")
