"""`stageline up STAGE`: deploy a stage, creating its stack on demand."""

from __future__ import annotations

from collections.abc import Mapping

import click
from pulumi import automation as auto

from components.contract import KEY_RELEASE, ReleaseManifest
from stageline.automation import up_once
from stageline.cli.context import CliContext, engine_errors
from stageline.progress import Progress, format_changes


def release_of(stage: str, outputs: Mapping[str, auto.OutputValue]) -> ReleaseManifest | None:
    """The contract's release among STAGE's outputs; None if it exports none.

    A release that is there but malformed is a CLI error, not "no release": promoting from it
    or reporting it would hide a stack that was not deployed by this template.
    """
    out = outputs.get(KEY_RELEASE)
    if out is None:
        return None
    try:
        return ReleaseManifest.from_output(out.value)
    except ValueError as exc:
        raise click.ClickException(
            f"stage {stage!r} exports a {KEY_RELEASE!r} output stageline cannot read ({exc}); "
            f"run `stageline up {stage}` to deploy it with this template."
        ) from exc


def run_up(obj: CliContext, stage: str) -> None:
    stack = obj.stack(stage)
    with engine_errors(stage):
        # One engine run: the summary and the release come from its event stream.
        result = up_once(
            stack, on_event=Progress(click.echo), warm=lambda: obj.project.warm_program(stage)
        )
    release = release_of(stage, result.outputs)
    suffix = f", release {release.app_version}" if release else ""
    click.echo(f"{stage}: {format_changes(result.changes)}{suffix}")


@click.command()
@click.argument("stage")
@click.pass_obj
def up(obj: CliContext, stage: str) -> None:
    """Deploy STAGE: the same program as `pulumi up -s STAGE`."""
    run_up(obj, stage)
