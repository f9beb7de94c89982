"""`stageline` entry point: one command per module, all on the one program."""

from __future__ import annotations

from pathlib import Path

import click

from stageline.cli.cancel import cancel
from stageline.cli.context import CliContext
from stageline.cli.destroy import destroy
from stageline.cli.engine import engine
from stageline.cli.graph import graph
from stageline.cli.outputs import outputs
from stageline.cli.passthrough import pulumi_command
from stageline.cli.plan import plan
from stageline.cli.preview import preview
from stageline.cli.promote import promote
from stageline.cli.recover import recover
from stageline.cli.refresh import refresh
from stageline.cli.up import up
from stageline.stack_files import project_root
from stageline.workspace import Project


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stageline")
@click.option(
    "--project-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="STAGELINE_PROJECT_DIR",
    help="Folder with Pulumi.yaml and stacks/. Default: found from the working directory.",
)
@click.pass_context
def cli(ctx: click.Context, project_dir: Path | None) -> None:
    """Take one application environment through its stages with Pulumi."""
    if ctx.obj is None:
        ctx.obj = CliContext(Project((project_dir or project_root()).resolve()))


for command in (
    plan,
    preview,
    up,
    refresh,
    outputs,
    destroy,
    promote,
    cancel,
    recover,
    graph,
    engine,
    pulumi_command,
):
    cli.add_command(command)

if __name__ == "__main__":
    cli()
