"""`stageline engine install`: obtain the Pulumi engine (PATH, official install, or Go build)."""

from __future__ import annotations

import logging
from pathlib import Path

import click


@click.group()
def engine() -> None:
    """The Pulumi engine stageline drives."""


@engine.command()
@click.option("--force", is_flag=True, help="Install afresh even when a current install exists.")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="STAGELINE_HOME",
    help="The stageline home to install into. Default: the checkout's .stageline.",
)
def install(force: bool, home: Path | None) -> None:
    """Install the engine into .stageline/engine; idempotent."""
    from stageline.engine import EngineNotAvailableError
    from stageline.engine import install as install_engine

    # The ways tried and the build's progress, as they happen: a cold build takes minutes.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        report = install_engine(home, force=force)
    except EngineNotAvailableError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())
