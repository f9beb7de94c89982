"""`stageline pulumi ARGS...`: the installed engine with stageline's backend and environment.

This is how `pulumi up -s <stage>` runs against the engine stageline built: the program is the
same `__main__.py` -> `stageline.program.deploy()` that the other commands run in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys

import click

from stageline.cli.context import CliContext


@click.command(
    "pulumi",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def pulumi_command(obj: CliContext, args: tuple[str, ...]) -> None:
    """Run the Pulumi CLI in the project, e.g. `stageline pulumi up -s dev`."""
    env = {**os.environ, **obj.pulumi_env()}
    argv = [obj.ensure_engine().command.command, *args]
    if sys.stdout.isatty():
        # A terminal keeps Pulumi's interactive prompts and live display.
        raise SystemExit(subprocess.run(argv, cwd=obj.project.root, env=env).returncode)
    with subprocess.Popen(
        argv, cwd=obj.project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            click.echo(line.decode(errors="replace"), nl=False)
    raise SystemExit(proc.returncode)
