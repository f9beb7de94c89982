"""`stageline` entry point: registers one command per module."""

from __future__ import annotations

import click

from stageline.cli.plan import plan


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stageline")
def cli() -> None:
    """Take one application environment through its stages with Pulumi."""


cli.add_command(plan)

if __name__ == "__main__":
    cli()
