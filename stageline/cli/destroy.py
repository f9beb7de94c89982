"""`stageline destroy STAGE`: confirms, and refuses a stage with protected data unless forced."""

from __future__ import annotations

import click

from stageline.cli.context import CliContext, engine_errors
from stageline.model import protects_data
from stageline.progress import Progress, format_changes
from stageline.stack_files import StackFile
from stageline.workspace import StageNotFoundError, remove_ephemeral_file


def is_protected(stack: StackFile) -> bool:
    """A stage whose data must survive a careless destroy: production tier or protectData."""
    return protects_data(stack.values)


@click.command()
@click.argument("stage")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--force-protected",
    is_flag=True,
    help="Destroy a protected stage: unprotects its resources first. Data resources marked "
    "retainOnDelete are left in place and dropped from state.",
)
@click.pass_obj
def destroy(obj: CliContext, stage: str, yes: bool, force_protected: bool) -> None:
    """Delete every resource of STAGE."""
    try:
        stack_file = obj.project.stack_file(stage)
    except StageNotFoundError as exc:
        raise click.BadParameter(str(exc), param_hint="STAGE") from exc
    protected = is_protected(stack_file)
    if protected and not force_protected:
        raise click.ClickException(
            f"stage {stage!r} holds protected data (production tier or protectData); refusing "
            f"to destroy it. If that is really meant: `stageline destroy {stage} --force-protected`"
        )
    if not yes:
        click.confirm(f"Destroy every resource of stage {stage!r}?", abort=True)
    stack = obj.stack(stage, create=False)
    if protected:
        obj.run_pulumi(stage, ["state", "unprotect", "--all", "--yes", "--stack", stage])
    with engine_errors(stage):
        result = stack.destroy(on_event=Progress(click.echo))
        if obj.project.is_ephemeral(stage):
            stack.workspace.remove_stack(stage)
    remove_ephemeral_file(obj.project, stage)
    click.echo(f"{stage}: destroyed, {format_changes(result.summary.resource_changes)}")
