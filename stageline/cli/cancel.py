"""`stageline cancel STAGE`: release the lock of an update that was killed."""

from __future__ import annotations

import click

from stageline.cli.context import CliContext, engine_errors


@click.command()
@click.argument("stage")
@click.pass_obj
def cancel(obj: CliContext, stage: str) -> None:
    """Cancel STAGE's running or abandoned update, then `refresh` to reconcile its state."""
    stack = obj.stack(stage, create=False)
    with engine_errors(stage):
        stack.cancel()
    click.echo(f"{stage}: lock released; run `stageline refresh {stage}` to reconcile its state")
