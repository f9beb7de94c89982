"""Each gate's decision, as pure functions of what was read (history, health, approver,
widenings): tested table-driven, without an engine or a guest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from components.contract import ReleaseManifest
from components.dr_ops import IngressHealth
from stageline.gates.record import GateOutcome, Update

APPROVAL, SOAK, VERIFY = "approval", "soakMinutes", "verify"


def same_release(recorded: Mapping[str, str] | None, release: ReleaseManifest) -> bool:
    """Whether an update's recorded release is `release`: the same build (appVersion and
    artifact); the template revision may differ without the build having changed."""
    if not recorded:
        return False
    return (
        recorded.get("appVersion") == release.app_version
        and recorded.get("artifact") == release.artifact
    )


def deployed_since(history: Sequence[Update], release: ReleaseManifest) -> datetime | None:
    """When the upstream started running `release`, from its update history (newest first):
    the end of the oldest update in the newest unbroken run of successful updates that recorded
    this release. A refresh changes no release and is skipped; anything else that is not such
    an update (a failed one, a destroy, a plain `pulumi up` without stageline's record) ends
    the run, so the soak can only start later than it truly did, never earlier."""
    since: datetime | None = None
    for update in history:
        if update.kind == "refresh":
            continue
        recorded = update.mark.release if update.mark else None
        if update.kind != "update" or update.result != "succeeded":
            break
        if not same_release(recorded, release):
            break
        since = update.ended or update.started
    return since


def soak_gate(
    minutes: int, upstream: str, release: ReleaseManifest, history: Sequence[Update], now: datetime
) -> GateOutcome:
    needed = timedelta(minutes=minutes)
    since = deployed_since(history, release)
    if since is None:
        return GateOutcome(
            gate=SOAK,
            passed=False,
            reason=f"{upstream}'s update history shows no successful update by stageline that "
            f"deployed {release.app_version} ({release.artifact}) as its latest",
            fix=f"deploy it with `stageline up {upstream}` (or promote it there), then wait "
            f"{minutes} minutes",
        )
    ran = now - since
    ran_minutes = int(ran.total_seconds() // 60)
    when = since.strftime("%Y-%m-%d %H:%M:%S UTC")
    if ran >= needed:
        return GateOutcome(
            gate=SOAK,
            passed=True,
            reason=f"{release.app_version} has run on {upstream} since {when} "
            f"({ran_minutes} min, {minutes} needed)",
        )
    ready = (since + needed).strftime("%Y-%m-%d %H:%M:%S UTC")
    return GateOutcome(
        gate=SOAK,
        passed=False,
        reason=f"{release.app_version} has run on {upstream} only since {when} "
        f"({ran_minutes} of {minutes} min)",
        fix=f"wait until {ready}, then retry",
    )


def verify_gate(upstream: str, release: ReleaseManifest, health: IngressHealth) -> GateOutcome:
    if health.healthy and health.app_version == release.app_version:
        return GateOutcome(
            gate=VERIFY, passed=True, reason=f"{upstream}'s ingress answered {health.detail}"
        )
    if health.healthy:
        return GateOutcome(
            gate=VERIFY,
            passed=False,
            reason=f"{upstream}'s ingress answers {health.detail}, not the release "
            f"{release.app_version} it exports",
            fix=f"converge it with `stageline up {upstream}`, wait until it serves "
            f"{release.app_version}, then retry",
        )
    return GateOutcome(
        gate=VERIFY,
        passed=False,
        reason=f"{upstream}'s ingress is not healthy: {health.detail}",
        fix=f"repair {upstream} until `stageline status {upstream}` shows it healthy, then "
        "retry (or set gates.verify: false in the stack file to skip this check)",
    )


@dataclass(frozen=True)
class Approver:
    name: str
    how: str
    """`--approved-by`, or `GitHub environment prod`."""


def approval_gate(reasons: Sequence[str], approver: Approver | None, stage: str) -> GateOutcome:
    """`reasons`: why this promotion needs an approval (its gates, a widening); none: it does
    not, and an approver given anyway is still recorded."""
    if not reasons:
        said = f"; approved by {approver.name} ({approver.how})" if approver else ""
        return GateOutcome(gate=APPROVAL, passed=True, reason="not required" + said)
    why = "; ".join(reasons)
    if approver is not None:
        return GateOutcome(
            gate=APPROVAL,
            passed=True,
            reason=f"approved by {approver.name} ({approver.how}); required: {why}",
        )
    return GateOutcome(
        gate=APPROVAL,
        passed=False,
        reason=f"needs an approval: {why}",
        fix=f"rerun with `--approved-by NAME` once someone has reviewed it, or in GitHub "
        f"Actions run the job in environment {stage!r} with required reviewers",
    )


def skipped(gate: str, why: str) -> GateOutcome:
    return GateOutcome(gate=gate, passed=True, reason=why)
