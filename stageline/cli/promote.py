"""`stageline promote STAGE`: show which release moves from the upstream, then `up` the stage."""

from __future__ import annotations

import click

from components.contract import ReleaseManifest
from stageline.cli.context import CliContext, engine_errors
from stageline.cli.up import release_of, run_up, timeout_option, wait_option
from stageline.model import stage_keys


def describe(release: ReleaseManifest | None) -> str:
    if release is None:
        return "nothing"
    return f"{release.app_version} ({release.artifact}, {release.template_revision})"


@click.command()
@click.argument("stage")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@wait_option
@timeout_option
@click.pass_obj
def promote(obj: CliContext, stage: str, yes: bool, wait: bool, wait_timeout: float) -> None:
    """Move the release STAGE's upstream verified into STAGE."""
    keys = stage_keys(obj.project.stack_file(stage).values)
    upstream = keys.promotes_from
    if not upstream:
        raise click.ClickException(f"stage {stage!r} has no promotesFrom: nothing to promote from")
    if keys.release:
        raise click.ClickException(
            f"stage {stage!r} pins release {keys.release.app_version!r} in config, so a "
            f"promotion would not move it. Remove stageline:release from "
            f"stacks/Pulumi.{stage}.yaml to deploy what {upstream!r} verified."
        )
    upstream_stack = obj.stack(upstream, create=False)
    with engine_errors(upstream):
        incoming = release_of(upstream, upstream_stack.outputs())
    if incoming is None:
        raise click.ClickException(
            f"upstream {upstream!r} exports no release: run `stageline up {upstream}` first"
        )
    stack = obj.stack(stage)
    with engine_errors(stage):
        current = release_of(stage, stack.outputs())
    if current == incoming:
        click.echo(f"{stage}: already at {describe(incoming)}; applying to converge")
    else:
        click.echo(f"{stage}: {describe(current)} -> {describe(incoming)} from {upstream}")
    if not yes:
        click.confirm(f"Deploy it to {stage!r}?", abort=True)
    run_up(obj, stage, wait, wait_timeout)
