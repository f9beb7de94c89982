"""`stageline plan`: the credential-free preview of a stage, evaluated under Pulumi's mocks."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from components.errors import ConfigError
from stageline.cli.context import CliContext
from stageline.graph import StageGraph, load_stage_graph, node_from_file
from stageline.plan.cache import PlanCache
from stageline.plan.render import render_json, render_text
from stageline.plan.runner import StagePlan, plan_progression
from stageline.policy_gate import blocking, context_for, evaluate_plan, render, stage_names
from stageline.program import deploy
from stageline.stack_files import StackFile, find_stack, list_stack_files

# Planning is CPU-bound (mostly SDK imports): one planner process per core, within reason.
DEFAULT_JOBS = min(4, os.cpu_count() or 1)


def offline_plan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every command that plans offline: `--stacks`, `--cache`, `--jobs`."""
    options = [
        click.option(
            "--stacks",
            "folder",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Folder of Pulumi.<stack>.yaml files. Default: the project's stacks/.",
        ),
        click.option(
            "--cache/--no-cache",
            default=True,
            help="Reuse upstream outputs planned before from identical inputs "
            "(.stageline/cache/plans). Default: on.",
        ),
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=1),
            default=DEFAULT_JOBS,
            show_default=True,
            help="Planner processes for stages that do not depend on each other.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _load_outputs(path: Path, upstream: str | None) -> dict[str, dict[str, Any]]:
    """Outputs as `pulumi stack output --json --show-secrets` prints them, for the upstream."""
    if upstream is None:
        raise click.UsageError("--upstream-outputs given, but the stage has no promotesFrom")
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="--upstream-outputs") from exc
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path}: expected a JSON object", param_hint="--upstream-outputs")
    return {upstream: data}


@click.command()
@click.argument("stage", required=False)
@click.option("--all", "all_stages", is_flag=True, help="Plan every stage in stacks/.")
@click.option(
    "--upstream-outputs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON outputs of the upstream stack (`pulumi stack output --json --show-secrets`). "
    "Default: the upstream's own plan.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@offline_plan_options
@click.pass_obj
def plan(
    obj: CliContext,
    stage: str | None,
    all_stages: bool,
    upstream_outputs: Path | None,
    fmt: str,
    folder: Path | None,
    cache: bool,
    jobs: int,
) -> None:
    """Print the resource tree and exports of STAGE (or --all) without credentials or engine."""
    if bool(stage) == all_stages:
        raise click.UsageError("give a STAGE or --all")
    folder = folder or obj.project.stacks_dir
    stacks, graph = load_stages(folder)

    wanted: list[str] | None = None
    given: dict[str, dict[str, Any]] = {}
    if stage:
        found, graph = add_stage(stage, stacks, graph)
        wanted = [found.name]
        if upstream_outputs:
            given = _load_outputs(upstream_outputs, graph.nodes[found.name].promotes_from)

    plans = plan_stages(obj, folder, graph, stacks, wanted, given, cache=cache, jobs=jobs)
    shown = [p for p in plans if wanted is None or p.stack in wanted]
    _print(shown, fmt)
    refused = _policy_gate(shown, graph, stacks, to_stderr=fmt == "json")
    failed = [p for p in plans if not p.ok]
    for p in failed:
        click.echo(f"error: {p.stack}: {p.error}", err=True)
    if refused:
        click.echo(
            f"error: mandatory policy violations in {', '.join(refused)}: fix them "
            "(each names its fix above) before this change is previewed or applied",
            err=True,
        )
    if failed or refused:
        raise SystemExit(1)


def load_stages(folder: Path) -> tuple[dict[str, StackFile], StageGraph]:
    """The stack files of `folder` by name, and the stage graph drawn from them."""
    stacks: dict[str, StackFile] = {s.name: s for s in list_stack_files(folder)}
    try:
        graph = load_stage_graph(folder)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return stacks, graph


def add_stage(
    stage: str, stacks: dict[str, StackFile], graph: StageGraph, param_hint: str = "STAGE"
) -> tuple[StackFile, StageGraph]:
    """STAGE's stack file, and the graph with it; an ephemeral copy such as `ci-1234` joins
    `stacks` and the graph as a copy of its template."""
    found = find_stack(stage, stacks)
    if found is None:
        raise click.BadParameter(
            f"no stacks/Pulumi.{stage}.yaml (stages: {', '.join(sorted(stacks))})",
            param_hint=param_hint,
        )
    if found.name not in stacks:  # an ephemeral copy such as ci-1234
        stacks[found.name] = found
        node = dataclasses.replace(node_from_file(found), name=found.name)
        graph = StageGraph({**graph.nodes, found.name: node})
    return found, graph


def plan_stages(
    obj: CliContext,
    folder: Path,
    graph: StageGraph,
    stacks: dict[str, StackFile],
    wanted: list[str] | None,
    given: dict[str, dict[str, Any]] | None = None,
    cache: bool = True,
    jobs: int = DEFAULT_JOBS,
) -> list[StagePlan]:
    """Plan `wanted` (None: every stage) offline, with the upstreams they need."""
    return plan_progression(
        graph,
        stacks,
        functools.partial(deploy, folder, offline=True),
        wanted,
        given or {},
        cache=PlanCache.for_project(obj.project.root) if cache else None,
        jobs=jobs,
    )


def _policy_gate(
    plans: list[StagePlan], graph: StageGraph, stacks: dict[str, StackFile], to_stderr: bool
) -> list[str]:
    """Print each planned stage's policy violations; the stages with a mandatory one."""
    names = stage_names(stacks)
    refused: list[str] = []
    order = {name: i for i, name in enumerate(graph.order())}
    for p in sorted(plans, key=lambda p: order.get(p.stack, len(order))):
        if not p.ok:
            continue
        violations = evaluate_plan(p, context_for(graph, p.stack, names.get(p.stack)))
        for line in render(p.stack, violations):
            click.echo(line, err=to_stderr)
        if blocking(violations):
            refused.append(p.stack)
    return refused


def _print(plans: list[StagePlan], fmt: str) -> None:
    if fmt == "json":
        click.echo(render_json(plans))
        return
    for p in plans:
        if p.ok:
            click.echo(render_text(p))
            click.echo()
