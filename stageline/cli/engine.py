"""`stageline engine install`: obtain the Pulumi engine (PATH, official install, or Go build)."""

from __future__ import annotations

import click


@click.group()
def engine() -> None:
    """The Pulumi engine stageline drives."""


@engine.command()
@click.option("--force", is_flag=True, help="Install afresh even when a current install exists.")
def install(force: bool) -> None:
    """Install the engine into .stageline/engine; idempotent."""
    from stageline.engine import EngineNotAvailableError
    from stageline.engine import install as install_engine

    try:
        report = install_engine(force=force)
    except EngineNotAvailableError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())
