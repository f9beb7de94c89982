"""`stageline outputs STAGE`: the stage's contract outputs, secrets masked by default."""

from __future__ import annotations

import json

import click

from stageline.cli.context import CliContext


@click.command()
@click.argument("stage")
@click.option("--show-secrets", is_flag=True, help="Print secret outputs in plain text.")
@click.pass_obj
def outputs(obj: CliContext, stage: str, show_secrets: bool) -> None:
    """Print STAGE's stack outputs as JSON."""
    obj.stack(stage, create=False)  # a clear error when the stage has no stack yet
    # The CLI masks secrets wherever they sit in a value; the Automation API's outputs() only
    # marks whole top-level outputs, so a nested password would slip through it.
    args = ["stack", "output", "--json", "--stack", stage]
    if show_secrets:
        args.append("--show-secrets")
    result = obj.run_pulumi(stage, args)
    click.echo(json.dumps(json.loads(result.stdout or "{}"), indent=2, sort_keys=True))
