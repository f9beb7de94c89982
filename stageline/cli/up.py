"""`stageline up STAGE`: deploy a stage, creating its stack on demand."""

from __future__ import annotations

from collections.abc import Mapping

import click
from pulumi import automation as auto

from components.contract import KEY_RELEASE
from stageline.automation import up_once
from stageline.cli.context import CliContext, engine_errors
from stageline.progress import Progress, format_changes


def release_of(outputs: Mapping[str, auto.OutputValue]) -> dict[str, str] | None:
    """The contract's release among a stack's outputs, if it exports one."""
    out = outputs.get(KEY_RELEASE)
    return out.value if out is not None and isinstance(out.value, dict) else None


def run_up(obj: CliContext, stage: str) -> None:
    stack = obj.stack(stage)
    with engine_errors(stage):
        # One engine run: the summary and the release come from its event stream.
        result = up_once(
            stack, on_event=Progress(click.echo), warm=lambda: obj.project.warm_program(stage)
        )
    release = release_of(result.outputs)
    version = release.get("appVersion") if release else None
    suffix = f", release {version}" if version else ""
    click.echo(f"{stage}: {format_changes(result.changes)}{suffix}")


@click.command()
@click.argument("stage")
@click.pass_obj
def up(obj: CliContext, stage: str) -> None:
    """Deploy STAGE: the same program as `pulumi up -s STAGE`."""
    run_up(obj, stage)
