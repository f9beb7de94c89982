"""`stageline up STAGE`: deploy a stage, creating its stack on demand."""

from __future__ import annotations

import click

from stageline.cli.context import CliContext, engine_errors
from stageline.progress import Progress, format_changes


def run_up(obj: CliContext, stage: str) -> None:
    stack = obj.stack(stage)
    with engine_errors(stage):
        result = stack.up(on_event=Progress(click.echo))
    release = result.outputs.get("release")
    version = (
        release.value.get("appVersion") if release and isinstance(release.value, dict) else None
    )
    suffix = f", release {version}" if version else ""
    click.echo(f"{stage}: {format_changes(result.summary.resource_changes)}{suffix}")


@click.command()
@click.argument("stage")
@click.pass_obj
def up(obj: CliContext, stage: str) -> None:
    """Deploy STAGE: the same program as `pulumi up -s STAGE`."""
    run_up(obj, stage)
