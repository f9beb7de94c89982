"""`stageline refresh STAGE`: bring the stack's state in line with what really exists."""

from __future__ import annotations

import click

from stageline.cli.context import CliContext, engine_errors
from stageline.progress import Progress, format_changes


@click.command()
@click.argument("stage")
@click.pass_obj
def refresh(obj: CliContext, stage: str) -> None:
    """Refresh STAGE's state from the real resources."""
    stack = obj.stack(stage, create=False)
    with engine_errors(stage):
        result = stack.refresh(on_event=Progress(click.echo))
    click.echo(f"{stage}: refreshed, {format_changes(result.summary.resource_changes)}")
