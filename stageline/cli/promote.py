"""`stageline promote STAGE`: check the stage's gates, show which release moves from the
upstream, then `up` the stage with the promotion's record in its update history."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from components.contract import ReleaseManifest
from stageline.cli.context import CliContext, engine_errors
from stageline.cli.up import (
    approved_report_option,
    release_of,
    run_up,
    timeout_option,
    wait_option,
)
from stageline.gates.checks import (
    SOAK,
    VERIFY,
    approval_gate,
    skipped,
    soak_gate,
    verify_gate,
)
from stageline.gates.record import (
    GateOutcome,
    PromotionRecord,
    UpdateMark,
    message_for,
    read_history,
    release_fields_of,
)
from stageline.gates.sources import (
    StagePreview,
    approver_from,
    plain_outputs,
    preview_stage,
    upstream_health,
)
from stageline.model import StageKeys, stage_keys


def describe(release: ReleaseManifest | None) -> str:
    if release is None:
        return "nothing"
    return f"{release.app_version} ({release.artifact}, {release.template_revision})"


def approval_reasons(keys: StageKeys, stage: str, preview: StagePreview | None) -> list[str]:
    reasons: list[str] = []
    if keys.gates.approval_required(keys.tier_name):
        said = "gates.approval is true" if keys.gates.approval else f"{stage} is {keys.tier_name}"
        reasons.append(said)
    if preview is not None:
        reasons += [w.describe() for w in preview.widenings]
    return reasons


def show(outcomes: list[GateOutcome]) -> None:
    for gate in outcomes:
        mark = "passed " if gate.passed else "BLOCKED"
        click.echo(f"  {mark} {gate.gate}: {gate.reason}")
        if not gate.passed and gate.fix:
            click.echo(f"          to pass: {gate.fix}")


@click.command()
@click.argument("stage")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show each gate as passed or blocked, with the reason, and change nothing.",
)
@click.option(
    "--approved-by",
    metavar="NAME",
    help="Who approved this promotion (in GitHub Actions, read from the environment's reviewer).",
)
@approved_report_option
@wait_option
@timeout_option
@click.pass_obj
def promote(
    obj: CliContext,
    stage: str,
    yes: bool,
    dry_run: bool,
    approved_by: str | None,
    approved_report: Path | None,
    wait: bool,
    wait_timeout: float,
) -> None:
    """Move the release STAGE's upstream verified into STAGE, once STAGE's gates pass."""
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
        upstream_outputs = upstream_stack.outputs()
    incoming = release_of(upstream, upstream_outputs)
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

    # The preview tells what the promotion widens; a stage never deployed is reviewed whole
    # through its approval gate instead (everything in it would count as new).
    deployed = current is not None
    preview = preview_stage(stack, stage) if deployed or approved_report else None
    widened = preview if deployed else None
    gates = keys.gates
    approver = approver_from(approved_by, stage, os.environ)
    outcomes = [approval_gate(approval_reasons(keys, stage, widened), approver, stage)]
    if gates.soak_minutes:
        with engine_errors(upstream):
            history = read_history(upstream_stack)
        now = datetime.now(UTC)
        outcomes.append(soak_gate(gates.soak_minutes, upstream, incoming, history, now))
    else:
        outcomes.append(skipped(SOAK, "not required (gates.soakMinutes is 0)"))
    if gates.verify:
        health = upstream_health(obj.project, upstream, plain_outputs(upstream_outputs))
        outcomes.append(verify_gate(upstream, incoming, health))
    else:
        outcomes.append(skipped(VERIFY, "turned off (gates.verify is false)"))
    click.echo(f"{stage}: gates")
    show(outcomes)
    blocked = [g for g in outcomes if not g.passed]
    if dry_run:
        verdict = "blocked by " + ", ".join(g.gate for g in blocked) if blocked else "would pass"
        click.echo(f"{stage}: dry run, nothing changed; the promotion {verdict}")
        if blocked:
            raise SystemExit(1)
        return
    if blocked:
        lines = "\n".join(f"  - {g.gate}: {g.reason}. To pass: {g.fix}" for g in blocked)
        raise click.ClickException(
            f"promotion of {incoming.app_version} into {stage!r} refused; nothing was changed:\n"
            f"{lines}"
        )
    if approved_report is not None:
        from stageline.gates.applied import approved_stage, refuse_unapproved

        assert preview is not None
        approved = approved_stage(approved_report, stage)
        refuse_unapproved(approved, preview.changes, incoming.app_version, approved_report)
    if not yes:
        click.confirm(f"Deploy it to {stage!r}?", abort=True)
    record = PromotionRecord(
        stage=stage,
        release=release_fields_of(incoming) or {},
        from_stage=upstream,
        from_stack=upstream_stack.name,
        approved_by=approver.name if approver else None,
        approval=approver.how if approver else "",
        gates=tuple(outcomes),
        decided_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    mark = UpdateMark(release=record.release, promotion=record)
    run_up(obj, stage, wait, wait_timeout, message=message_for(mark))
