"""`stageline diff STAGE_A STAGE_B`: parity of two stages, from their offline plans.

Differences the stages' config explains (sizes, counts, tiers, a DR replica's own resources)
are listed apart from structural drift (a resource type in one stage and not the other that no
config value explains). Drift is information here, so the command exits 0 unless planning
fails, or `--fail-on-drift` is given and drift is found (exit 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from components.errors import ConfigError
from stageline.ci.parity import compare
from stageline.ci.report import ParityItem
from stageline.cli.context import CliContext
from stageline.cli.plan import add_stage, load_stages, offline_plan_options, plan_stages
from stageline.config import file_config


@click.command()
@click.argument("stage_a")
@click.argument("stage_b")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@offline_plan_options
@click.option(
    "--fail-on-drift",
    is_flag=True,
    help="Exit 1 when structural drift is found (e.g. to gate a pull request).",
)
@click.pass_obj
def diff(
    obj: CliContext,
    stage_a: str,
    stage_b: str,
    fmt: str,
    folder: Path | None,
    cache: bool,
    jobs: int,
    fail_on_drift: bool,
) -> None:
    """Compare STAGE_A with STAGE_B: expected differences apart from structural drift."""
    folder = folder or obj.project.stacks_dir
    stacks, graph = load_stages(folder)
    file_a, graph = add_stage(stage_a, stacks, graph, "STAGE_A")
    file_b, graph = add_stage(stage_b, stacks, graph, "STAGE_B")
    if file_a.name == file_b.name:
        raise click.BadParameter("give two different stages", param_hint="STAGE_B")

    wanted = [file_a.name, file_b.name]
    plans = {
        p.stack: p for p in plan_stages(obj, folder, graph, stacks, wanted, cache=cache, jobs=jobs)
    }
    failed = [plans[name] for name in wanted if not plans[name].ok]
    if failed:
        for p in failed:
            click.echo(f"error: {p.stack}: {p.error}", err=True)
        raise SystemExit(1)
    try:
        config_a, config_b = file_config(file_a), file_config(file_b)
    except ConfigError as exc:  # planning validated them already; kept for direct callers
        raise click.ClickException(str(exc)) from exc

    items = compare(plans[file_a.name], plans[file_b.name], config_a, config_b)
    expected = [i for i in items if i.kind == "expected"]
    structural = [i for i in items if i.kind == "structural"]
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "stage": file_a.name,
                    "peer": file_b.name,
                    "expected": [i.model_dump() for i in expected],
                    "structural": [i.model_dump() for i in structural],
                },
                indent=2,
            )
        )
    else:
        click.echo(f"{file_a.name} compared with {file_b.name} (offline plans)")
        _section("expected differences (their config says so)", expected)
        _section("structural drift (not explained by config)", structural)
    if structural and fail_on_drift:
        click.echo(
            f"error: {len(structural)} resource type(s) drift between {file_a.name} and "
            f"{file_b.name}",
            err=True,
        )
        raise SystemExit(1)


def _section(title: str, items: list[ParityItem]) -> None:
    click.echo()
    if not items:
        click.echo(f"{title}: none")
        return
    click.echo(f"{title}: {len(items)}")
    width = max(len(i.subject) for i in items)
    for item in items:
        click.echo(f"  {item.subject.ljust(width)}  {item.detail}")
