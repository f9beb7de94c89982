"""Failover and failback: runtime actions first, then the DR stack converged to match them.

Failover, in this order (each step idempotent, so a run that stopped half-way is run again):
1. read the replica's lag, and refuse past `disasterRecovery.rpoSeconds` unless forced;
2. promote the replica's database (`DrOperations.promote`);
3. scale its compute to at least the primary's `compute.minCount`;
4. point the failover record at it, where the stage has a `dnsZone`;
5. record `role: active` in its stack file and converge it (`up`): the template then renders
   a standalone database, so no later `up` undoes the failover;
6. wait until its ingress is healthy; the time since step 2 began is the failover's RTO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from components.dr_ops import (
    DrOperations,
    DrSides,
    OperationFailed,
    OperationUnavailable,
    ReplicationState,
)
from stageline.dr.seams import DrSeams
from stageline.dr.stack_edit import edit_file
from stageline.dr.stage import DR_KEY, DrError, DrStage, load_dr_stage, primary_min_count, sides
from stageline.dr.wait import Echo, lag_words, wait_ingress, wait_streaming
from stageline.workspace import Project

ROLE_PATH = ("config", DR_KEY)
DEFAULT_TIMEOUT = 900.0


def record_role(dr: DrStage, role: str) -> bool:
    """Write `role` into the stage's own stack file, comments kept; False if it said so."""
    return edit_file(dr.own_file, ROLE_PATH, "role", role)


def check_lag(dr: DrStage, state: ReplicationState | None, error: str, force: bool) -> str:
    """The lag verdict as one line; DrError past the RPO budget (or unknown) unless forced."""
    budget = dr.dr.rpo_seconds
    lag = None if state is None else state.lag_seconds
    if lag is not None and lag <= budget:
        return f"lag {lag:.1f} s within disasterRecovery.rpoSeconds {budget} s"
    measured = (
        f"replication lag is unknown ({error or (state.detail if state else '') or 'not reported'})"
        if lag is None
        else f"replication lag is {lag:.1f} s"
    )
    problem = f"{measured}, past disasterRecovery.rpoSeconds {budget} s"
    if force:
        return f"{problem}; going on (--force)"
    raise DrError(
        f"{dr.name}: {problem}: failing over now may lose that much data. Wait until it "
        f"catches up (`stageline dr status {dr.name}`), or accept the loss with "
        f"`stageline dr failover {dr.name} --force`."
    )


def read_state(ops: DrOperations, both: DrSides) -> tuple[ReplicationState | None, str]:
    try:
        return ops.replication(both), ""
    except (OperationFailed, OperationUnavailable) as exc:
        # The primary may be the thing that is down: a failover must still be possible (--force).
        return None, str(exc)


@dataclass(frozen=True)
class FailoverResult:
    rto_seconds: float
    lag_seconds: float | None


def run_failover(
    project: Project,
    seams: DrSeams,
    stage: str,
    force: bool,
    echo: Echo,
    timeout: float = DEFAULT_TIMEOUT,
) -> FailoverResult:
    dr = load_dr_stage(project, stage)
    ops = seams.operations(dr.config.target)
    clock = seams.clock
    both = sides(project, seams.engine, dr)
    state, error = read_state(ops, both)
    if state is not None and state.role == "active":
        echo(f"{stage}: its database is already promoted; finishing the failover")
    else:
        echo(f"{stage}: {check_lag(dr, state, error, force)}")
    started = clock.monotonic()
    echo(f"{stage}: promoting the replica")
    ops.promote(both)
    count = max(dr.config.spec.compute.min_count, primary_min_count(both))
    echo(f"{stage}: scaling compute to {count}")
    ops.scale(both.replica, count)
    if both.zone:
        echo(f"{stage}: routing app.{both.zone} to {stage}")
        ops.route(both, both.replica)
    else:
        echo(f"{stage}: no disasterRecovery.dnsZone: routing skipped; point clients at it")
    changed = record_role(dr, "active")
    echo(f"{stage}: {'recorded' if changed else 'already records'} role: active in {dr.own_file}")
    echo(f"{stage}: converging the stack")
    # Serving, not capacity, ends the outage: the RTO stops once the ingress answers healthy,
    # and only then does the command wait for the rest of the scale-out.
    seams.engine.up(stage, wait=False)
    replica = sides(project, seams.engine, load_dr_stage(project, stage)).replica
    health = wait_ingress(ops, replica, timeout, clock, seams.poll_seconds, echo)
    rto = clock.monotonic() - started
    budget = dr.dr.rto_seconds
    verdict = "within" if rto <= budget else "PAST"
    echo(f"{stage}: healthy ({health.detail})")
    echo(f"{stage}: failover took {rto:.1f} s, {verdict} disasterRecovery.rtoSeconds {budget} s")
    seams.engine.wait(stage)
    return FailoverResult(rto, state.lag_seconds if state else None)


@runtime_checkable
class FailbackOperations(Protocol):
    """What a target adds to DrOperations to fail back (optional)."""

    def rebuild_replica(self, sides: DrSides) -> None:
        """Make `sides.replica`'s database (the old primary) follow `sides.primary` (the active
        DR side), seeding it again if it diverged; a no-op if it already follows."""
        ...

    def switchover(self, sides: DrSides) -> None:
        """Planned, RPO 0: stop writes on `sides.primary`, wait until `sides.replica` replayed
        all of it, promote `sides.replica`, and make `sides.primary` follow it."""
        ...


def run_failback(
    project: Project, seams: DrSeams, stage: str, echo: Echo, timeout: float = DEFAULT_TIMEOUT
) -> float:
    """Return to the primary after a failover; the seconds the switch took (step 3 on)."""
    dr = load_dr_stage(project, stage)
    if dr.dr.role != "active":
        raise DrError(
            f"{stage} records role: standby in {dr.own_file.name}: there is nothing to fail back "
            f"(failback follows `stageline dr failover {stage}`)"
        )
    ops = seams.operations(dr.config.target)
    if not isinstance(ops, FailbackOperations):
        raise OperationUnavailable(
            f"the {dr.config.target} target cannot rebuild {dr.primary!r} as a replica of "
            f"{stage!r} yet. {stage} stays active; nothing was changed."
        )
    clock = seams.clock
    both = sides(project, seams.engine, dr)
    back = DrSides(primary=both.replica, replica=both.primary, zone=both.zone)
    echo(f"{stage}: rebuilding {dr.primary} as a replica of {stage}")
    ops.rebuild_replica(back)
    state = wait_streaming(ops, back, timeout, clock, seams.poll_seconds, echo)
    echo(f"{dr.primary}: {lag_words(state)}")
    started = clock.monotonic()
    echo(f"{stage}: switching over to {dr.primary} (planned, no data loss)")
    ops.switchover(back)
    if both.zone:
        echo(f"{stage}: routing app.{both.zone} to {dr.primary}")
        ops.route(both, both.primary)
    record_role(dr, "standby")
    echo(f"{stage}: recorded role: standby; converging {dr.primary} and {stage}")
    seams.engine.up(dr.primary)
    seams.engine.up(stage)
    wait_ingress(ops, both.primary, timeout, clock, seams.poll_seconds, echo)
    took = clock.monotonic() - started
    echo(f"{stage}: failed back to {dr.primary} in {took:.1f} s")
    return took
