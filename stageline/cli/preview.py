"""`stageline preview STAGE` / `preview --all`: what `up` would change, on the real engine."""

from __future__ import annotations

from pathlib import Path

import click

from stageline.cli.context import CliContext, engine_errors
from stageline.progress import Progress, format_changes

REPORT_PATH = Path(".stageline") / "ci" / "preview.json"
"""Where `preview --all` keeps its JSON report, under the project: `ci comment` reads it."""


@click.command()
@click.argument("stage", required=False)
@click.option("--all", "all_stages", is_flag=True, help="Preview every affected stage.")
@click.option(
    "--changed",
    "base",
    metavar="BASE",
    help="With --all: only the stages a change since the git revision BASE affects "
    "(a stack file: that stage and its downstream; the template, operator or pins: all).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="With --all: stages previewed side by side (offline plans: at most one per core).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    help="With --all: the summary printed.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"With --all: where the JSON report goes. Default: {REPORT_PATH} in the project.",
)
@click.pass_obj
def preview(
    obj: CliContext,
    stage: str | None,
    all_stages: bool,
    base: str | None,
    jobs: int,
    fmt: str,
    output: Path | None,
) -> None:
    """Preview STAGE's changes against its stack's state, or every affected stage (--all)."""
    if bool(stage) == all_stages:
        raise click.UsageError("give a STAGE or --all")
    if not all_stages:
        if base is not None:
            raise click.UsageError("--changed needs --all")
        _preview_one(obj, stage or "")
        return
    from stageline.cli.preview_all import run_preview_all

    run_preview_all(obj, base, jobs, fmt, output or obj.project.root / REPORT_PATH)


def _preview_one(obj: CliContext, stage: str) -> None:
    stack = obj.stack(stage)
    with engine_errors(stage):
        result = stack.preview(on_event=Progress(click.echo))
    click.echo(f"{stage}: would {format_changes(result.change_summary)}")
