"""`stageline dr ...`: a DR stage's replica, failover, failback, drills and their cleanup.

The orchestration lives in `stageline.dr`; this module parses options, confirms destructive
commands, holds the stage's DR lock and turns every failure into one clear CLI error. A test
(or another front end) replaces the engine and the target's operations by giving the CLI
context a `dr_seams` attribute (`stageline.dr.seams.DrSeams`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from components.dr_ops import OperationFailed, OperationUnavailable
from components.errors import ConfigError
from stageline.cli.context import CliContext
from stageline.dr.drill import DEFAULT_TIMEOUT, run_drill
from stageline.dr.failover import run_failback, run_failover
from stageline.dr.gc import run_gc
from stageline.dr.lock import DrLocked, dr_lock
from stageline.dr.places import dr_folder, locks_folder, reports_folder, tags_folder
from stageline.dr.scratch import DEFAULT_TTL_SECONDS
from stageline.dr.seams import DrSeams
from stageline.dr.stack_edit import StackEditError
from stageline.dr.stage import DrError, drilled_stage, load_dr_stage, sides
from stageline.dr.status import gather_status, render_table
from stageline.dr.wait import WaitTimeout, lag_words, wait_streaming
from stageline.model import protects_data

DR_ERRORS = (
    DrError,
    DrLocked,
    OperationUnavailable,
    OperationFailed,
    WaitTimeout,
    StackEditError,
    ConfigError,
)


@contextmanager
def dr_errors() -> Iterator[None]:
    """DR failures as one CLI sentence each (engine failures already are, see engine_errors)."""
    try:
        yield
    except DR_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc


def seams_of(obj: CliContext, timeout: float = DEFAULT_TIMEOUT) -> DrSeams:
    """The context's DR seams if it brings its own, else the engine and the targets' ops."""
    given: DrSeams | None = getattr(obj, "dr_seams", None)
    if given is not None:
        return given
    from stageline.dr.engine import CliDrEngine  # imports the up and destroy commands

    return DrSeams(engine=CliDrEngine(click.get_current_context(), obj, timeout))


@contextmanager
def locked(obj: CliContext, stage: str, command: str) -> Iterator[None]:
    with (
        dr_errors(),
        dr_lock(locks_folder(dr_folder(obj.backend, obj.project.root)), stage, command),
    ):
        yield


timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for replication, and for healthy machines and ingress.",
)


@click.group()
def dr() -> None:
    """Disaster recovery: a DR stage's replica, failover, failback and drills."""


@dr.command("up")
@click.argument("stage")
@timeout_option
@click.pass_obj
def dr_up(obj: CliContext, stage: str, timeout: float) -> None:
    """Deploy or refresh DR stage STAGE and wait until it replicates from its primary."""
    seams = seams_of(obj, timeout)
    with dr_errors():
        dr_stage = load_dr_stage(obj.project, stage)
    with locked(obj, stage, "up"):
        seams.engine.up(stage)
        both = sides(obj.project, seams.engine, dr_stage)
        ops = seams.operations(dr_stage.config.target)
        click.echo(f"{stage}: waiting until it replicates from {dr_stage.primary}")
        state = wait_streaming(ops, both, timeout, seams.clock, seams.poll_seconds, click.echo)
        click.echo(f"{stage}: {lag_words(state)} (rpoSeconds {dr_stage.dr.rpo_seconds})")


@dr.command("status")
@click.argument("stage")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def dr_status(obj: CliContext, stage: str, fmt: str) -> None:
    """Show DR stage STAGE: mode, role, lag as RPO, newest object, both ingresses."""
    with dr_errors():
        status = gather_status(obj.project, seams_of(obj), stage)
    click.echo(json.dumps(status, indent=2) if fmt == "json" else render_table(status))


@dr.command("failover")
@click.argument("stage")
@click.option("--force", is_flag=True, help="Fail over even past the RPO budget (data loss).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@timeout_option
@click.pass_obj
def dr_failover(obj: CliContext, stage: str, force: bool, yes: bool, timeout: float) -> None:
    """Promote DR stage STAGE, scale it, route to it, and record it active."""
    seams = seams_of(obj, timeout)
    with dr_errors():
        dr_stage = load_dr_stage(obj.project, stage)
    if not yes:
        click.confirm(
            f"Fail over from {dr_stage.primary!r} to {stage!r}? Its replica becomes the primary "
            "database; going back takes `stageline dr failback`.",
            abort=True,
        )
    with locked(obj, stage, "failover"):
        run_failover(obj.project, seams, stage, force, click.echo, timeout)


@dr.command("failback")
@click.argument("stage")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@timeout_option
@click.pass_obj
def dr_failback(obj: CliContext, stage: str, yes: bool, timeout: float) -> None:
    """Return from active DR stage STAGE to its primary, with a planned switchover."""
    seams = seams_of(obj, timeout)
    with dr_errors():
        dr_stage = load_dr_stage(obj.project, stage)
    if not yes:
        click.confirm(
            f"Rebuild {dr_stage.primary!r} from {stage!r} and switch back to it?", abort=True
        )
    with locked(obj, stage, "failback"):
        run_failback(obj.project, seams, stage, click.echo, timeout)


@dr.command("drill")
@click.argument("stage")
@timeout_option
@click.option(
    "--ttl",
    type=click.FloatRange(min=60),
    default=DEFAULT_TTL_SECONDS,
    show_default=True,
    help="Seconds after which `stageline dr gc` removes the scratch stack even if this run lives.",
)
@click.pass_obj
def dr_drill(obj: CliContext, stage: str, timeout: float, ttl: float) -> None:
    """Fail over a scratch copy of STAGE's DR stage; report measured RTO and RPO.

    STAGE is a DR stage, or the primary of one. Production and its routing are not touched,
    and the scratch stack is removed whatever happens.
    """
    seams = seams_of(obj, timeout)
    with dr_errors():
        target = drilled_stage(obj.project, stage)
    folder = dr_folder(obj.backend, obj.project.root)
    with locked(obj, target, "drill"):
        report, files = run_drill(
            obj.project,
            seams,
            stage,
            tags_folder(folder),
            reports_folder(obj.project.root),
            click.echo,
            timeout,
            ttl,
        )
    click.echo(f"drill report: {files[0]} and {files[1]}")
    rto = "unknown" if report.rto_seconds is None else f"{report.rto_seconds:.1f} s"
    rpo = "unknown" if report.rpo_seconds is None else f"{report.rpo_seconds:.1f} s"
    click.echo(
        f"RTO {rto} (target {report.rto_target} s, {'pass' if report.rto_pass else 'FAIL'}); "
        f"RPO {rpo} (target {report.rpo_target} s, {'pass' if report.rpo_pass else 'FAIL'})"
    )
    if not report.cleaned_up:
        click.echo(f"the scratch stack {report.scratch} is left: run `stageline dr gc`", err=True)
    if not report.passed:
        failed = [f"{s.name}: {s.error}" for s in report.steps if s.error]
        raise click.ClickException("drill failed" + (": " + "; ".join(failed) if failed else ""))


@dr.command("gc")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.pass_obj
def dr_gc(obj: CliContext, dry_run: bool) -> None:
    """Remove drill stacks whose process died or whose TTL passed."""
    folder = tags_folder(dr_folder(obj.backend, obj.project.root))
    with dr_errors():
        failed = run_gc(obj.project, seams_of(obj), folder, dry_run, click.echo)
    if failed:
        raise click.ClickException(f"could not remove {', '.join(failed)}; see above")


@dr.command("down")
@click.argument("stage")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def dr_down(obj: CliContext, stage: str, yes: bool) -> None:
    """Destroy DR stage STAGE; data resources it protects (protectData) are retained."""
    with dr_errors():
        dr_stage = load_dr_stage(obj.project, stage)
    if dr_stage.dr.role == "active":
        raise click.ClickException(
            f"{stage} records role: active: it serves production. Fail back first "
            f"(`stageline dr failback {stage}`); to really delete it, "
            f"`stageline destroy {stage} --force-protected`."
        )
    protected = protects_data(dr_stage.file.values)
    kept = (
        " Its protected data resources (database volume, bucket) are retained and dropped "
        "from state."
        if protected
        else " protectData is off: its data is deleted too."
    )
    if not yes:
        click.confirm(f"Destroy DR stage {stage!r}?{kept}", abort=True)
    seams = seams_of(obj)
    with locked(obj, stage, "down"):
        seams.engine.destroy(stage, force_protected=protected)
    click.echo(f"{stage}: destroyed.{kept}")
