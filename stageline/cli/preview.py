"""`stageline preview STAGE`: what `up` would change, on the real engine."""

from __future__ import annotations

import click

from stageline.cli.context import CliContext, engine_errors
from stageline.progress import Progress, format_changes


@click.command()
@click.argument("stage")
@click.pass_obj
def preview(obj: CliContext, stage: str) -> None:
    """Preview STAGE's changes against its stack's state."""
    stack = obj.stack(stage)
    with engine_errors(stage):
        result = stack.preview(on_event=Progress(click.echo))
    click.echo(f"{stage}: would {format_changes(result.change_summary)}")
