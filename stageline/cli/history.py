"""`stageline history STAGE`: the stage's promotions, read from its update history."""

from __future__ import annotations

import json

import click

from stageline.cli.context import CliContext, engine_errors
from stageline.gates.record import Update, read_history


def _when(update: Update) -> str:
    moment = update.ended or update.started
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def as_json(update: Update) -> dict[str, object]:
    assert update.mark is not None and update.mark.promotion is not None
    return {
        "version": update.version,
        "result": update.result,
        "started": update.started.isoformat(),
        "ended": update.ended.isoformat() if update.ended else None,
        **update.mark.promotion.model_dump(mode="json"),
    }


@click.command()
@click.argument("stage")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def history(obj: CliContext, stage: str, fmt: str) -> None:
    """Show STAGE's promotions, newest first: release, where from, who approved, which gates
    passed, and when. Read from the stack's update history in the backend."""
    stack = obj.stack(stage, create=False)
    with engine_errors(stage):
        updates = read_history(stack)
    promotions = [u for u in updates if u.mark is not None and u.mark.promotion is not None]
    others = len(updates) - len(promotions)
    if fmt == "json":
        click.echo(json.dumps([as_json(u) for u in promotions], indent=2))
        return
    if not promotions:
        click.echo(f"{stage}: no promotions recorded ({len(updates)} other updates)")
        return
    for update in promotions:
        record = update.mark.promotion  # type: ignore[union-attr]
        assert record is not None
        release = record.release
        click.echo(
            f"{_when(update)}  #{update.version} {update.result}: "
            f"{release.get('appVersion')} ({release.get('artifact')}) from {record.from_stage}"
        )
        approved = f"approved by {record.approved_by} ({record.approval})"
        click.echo(f"    {approved if record.approved_by else 'no approval given'}")
        for gate in record.gates:
            click.echo(f"    {gate.gate}: {'passed' if gate.passed else 'blocked'}, {gate.reason}")
    if others:
        click.echo(f"({others} other updates without a promotion: ups, refreshes, destroys)")
