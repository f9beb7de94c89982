"""`stageline up STAGE`: deploy a stage, creating its stack on demand."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click
from pulumi import automation as auto

from components.contract import KEY_RELEASE, ReleaseManifest
from components.health import HealthUnavailable
from stageline.automation import up_once
from stageline.cli.context import CliContext, engine_errors
from stageline.gates.record import UpdateMark, message_for, release_fields_of
from stageline.health import NotHealthy, SetupFailed, health_reader, wait_healthy
from stageline.model import stage_keys
from stageline.progress import Progress, format_changes
from stageline.revision import template_revision


def release_of(stage: str, outputs: Mapping[str, auto.OutputValue]) -> ReleaseManifest | None:
    """The contract's release among STAGE's outputs; None if it exports none.

    A release that is there but malformed is a CLI error, not "no release": promoting from it
    or reporting it would hide a stack that was not deployed by this template.
    """
    out = outputs.get(KEY_RELEASE)
    if out is None:
        return None
    try:
        return ReleaseManifest.from_output(out.value)
    except ValueError as exc:
        raise click.ClickException(
            f"stage {stage!r} exports a {KEY_RELEASE!r} output stageline cannot read ({exc}); "
            f"run `stageline up {stage}` to deploy it with this template."
        ) from exc


DEFAULT_WAIT_SECONDS = 900.0


def wait_for_machines(obj: CliContext, stage: str, timeout: float) -> None:
    """After an update: wait until the stage's machines run the release and are healthy,
    where its target can tell (otherwise there is nothing to wait for)."""
    read = health_reader(obj.project, stage)
    if read is None:
        return
    click.echo(f"{stage}: waiting for the machines to be healthy (up to {timeout:.0f} s)")
    try:
        health = wait_healthy(read, timeout, click.echo)
    except SetupFailed as exc:
        raise click.ClickException(
            f"{stage}: {exc}. See `stageline status {stage}` for the guest's log."
        ) from exc
    except NotHealthy as exc:
        raise click.ClickException(
            f"{stage}: {exc}. See `stageline status {stage}`; `--wait-timeout` waits longer."
        ) from exc
    except HealthUnavailable as exc:
        message = f"{stage}: deployed, but its machines cannot be asked: {exc}"
        raise click.ClickException(message) from exc
    for note in health.notes:
        click.echo(f"warning: {note}")
    kinds = sorted({m.kind for m in health.machines if m.kind})
    click.echo(
        f"{stage}: {len(health.machines)} machines healthy"
        + (f" ({', '.join(kinds)})" if kinds else "")
    )
    click.echo(f"  see them with `stageline status {stage}`")


def pinned_release(obj: CliContext, stage: str) -> ReleaseManifest | None:
    """The release the stage's stack file pins, as the update will deploy it."""
    pin = stage_keys(obj.project.stack_file(stage).values).release
    if pin is None:
        return None
    return ReleaseManifest(
        pin.app_version, pin.artifact, pin.template_revision or template_revision()
    )


def run_up(
    obj: CliContext,
    stage: str,
    wait: bool = True,
    timeout: float = DEFAULT_WAIT_SECONDS,
    refresh: bool = False,
    message: str | None = None,
) -> None:
    """`message` records the update in the stack's history; by default, the pinned release
    when the stage pins one (stageline.gates.record), which a downstream soak gate reads."""
    stack = obj.stack(stage)
    if message is None:
        message = message_for(UpdateMark(release=release_fields_of(pinned_release(obj, stage))))
    with engine_errors(stage):
        # One engine run: the summary and the release come from its event stream.
        result = up_once(
            stack,
            on_event=Progress(click.echo),
            warm=lambda: obj.project.warm_program(stage),
            refresh=refresh,
            message=message,
        )
    release = release_of(stage, result.outputs)
    suffix = f", release {release.app_version}" if release else ""
    click.echo(f"{stage}: {format_changes(result.changes)}{suffix}")
    if wait:
        wait_for_machines(obj, stage, timeout)


wait_option = click.option(
    "--wait/--no-wait",
    default=True,
    help="After the update, wait until the machines are healthy, where the target can tell.",
)
timeout_option = click.option(
    "--wait-timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_WAIT_SECONDS,
    show_default=True,
    help="Seconds to wait for healthy machines.",
)


approved_report_option = click.option(
    "--approved-report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A `stageline preview --all --format json` report a reviewer approved: preview the "
    "stage again and apply only if its changes are the approved ones.",
)


def check_approved(obj: CliContext, stage: str, report: Path, planned: str | None) -> None:
    """Refuse, before anything is applied, unless the stage's fresh preview is the approved one."""
    from stageline.gates.applied import approved_stage, refuse_unapproved
    from stageline.gates.sources import preview_stage

    approved = approved_stage(report, stage)
    fresh = preview_stage(obj.stack(stage), stage)
    refuse_unapproved(approved, fresh.changes, planned, report)


@click.command()
@click.argument("stage")
@approved_report_option
@wait_option
@timeout_option
@click.pass_obj
def up(
    obj: CliContext, stage: str, approved_report: Path | None, wait: bool, wait_timeout: float
) -> None:
    """Deploy STAGE: the same program as `pulumi up -s STAGE`."""
    if approved_report is not None:
        release = pinned_release(obj, stage)
        if release is None:
            upstream = stage_keys(obj.project.stack_file(stage).values).promotes_from or ""
            with engine_errors(upstream):
                release = release_of(upstream, obj.stack(upstream, create=False).outputs())
        check_approved(obj, stage, approved_report, release.app_version if release else None)
    run_up(obj, stage, wait, wait_timeout)
