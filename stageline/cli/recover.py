"""`stageline recover STAGE`: bring a stage back after its update was killed mid-flight.

It releases the lock, refreshes state from what really exists (dropping creates the engine
never saw finish), and runs `up`, whose creates adopt the objects the killed run left behind,
so nothing is orphaned.
"""

from __future__ import annotations

import click
from pulumi import automation as auto

from stageline.cli.context import CliContext, engine_errors
from stageline.cli.up import run_up, timeout_option, wait_option
from stageline.progress import Progress


@click.command()
@click.argument("stage")
@wait_option
@timeout_option
@click.pass_obj
def recover(obj: CliContext, stage: str, wait: bool, wait_timeout: float) -> None:
    """Cancel STAGE's abandoned update, refresh its state, then converge with `up`."""
    stack = obj.stack(stage, create=False)
    with engine_errors(stage):
        try:
            stack.cancel()
        except auto.CommandError as exc:  # the engine's "no update in progress"
            click.echo(f"{stage}: no update to cancel ({str(exc).strip().splitlines()[-1]})")
        stack.refresh(on_event=Progress(click.echo), clear_pending_creates=True)
    run_up(obj, stage, wait, wait_timeout)
