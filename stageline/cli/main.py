"""`stageline` entry point: one command per module, all on the one program."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from stageline.cli.context import CliContext
from stageline.stack_files import project_root
from stageline.workspace import Project

# Command name -> "module:attribute". A command's module is imported only when it runs (or
# for --help), so `stageline up` does not pay for plan's or graph's imports.
COMMANDS = {
    "plan": "stageline.cli.plan:plan",
    "preview": "stageline.cli.preview:preview",
    "up": "stageline.cli.up:up",
    "refresh": "stageline.cli.refresh:refresh",
    "outputs": "stageline.cli.outputs:outputs",
    "status": "stageline.cli.status:status",
    "destroy": "stageline.cli.destroy:destroy",
    "promote": "stageline.cli.promote:promote",
    "history": "stageline.cli.history:history",
    "cancel": "stageline.cli.cancel:cancel",
    "dr": "stageline.cli.dr:dr",
    "recover": "stageline.cli.recover:recover",
    "graph": "stageline.cli.graph:graph",
    "diff": "stageline.cli.diff:diff",
    "engine": "stageline.cli.engine:engine",
    "ci": "stageline.cli.ci:ci",
    "pulumi": "stageline.cli.passthrough:pulumi_command",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *(n for n in super().list_commands(ctx) if n not in self.lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        module, _, attr = self.lazy[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise RuntimeError(f"{self.lazy[cmd_name]} is not the command {cmd_name!r}")
        self.add_command(command)
        return command


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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


if __name__ == "__main__":
    cli()
