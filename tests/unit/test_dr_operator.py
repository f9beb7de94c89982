"""`stageline dr`: failover, failback, status, up, down and the lock, on a fake target's
operations and a fake engine handed in through the CLI context's `dr_seams`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from components.dr_ops import (
    DrSides,
    IngressHealth,
    Marker,
    OperationFailed,
    ReplicationState,
    StackView,
)
from stageline.backend import Backend
from stageline.cli.context import CliContext
from stageline.cli.main import cli
from stageline.dr.lock import dr_lock
from stageline.dr.places import dr_folder, locks_folder
from stageline.dr.seams import DrSeams
from stageline.workspace import Project, remove_ephemeral_file
from tests.conftest import REPO_STACKS

DR = "onprem-dr"
PRIMARY = "onprem"
START = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def contract(stage: str, min_count: int) -> dict[str, Any]:
    """A 1.1 contract as the backend would hand it over, secrets revealed."""
    return {
        "schemaVersion": "1.1",
        "stage": stage,
        "region": f"{stage}-site",
        "network": {"id": f"{stage}-net", "cidr": "10.70.0.0/24", "site": f"qemu:///{stage}"},
        "database": {
            "resourceId": f"{stage}-db",
            "endpoint": f"{stage}-db:5432",
            "engineVersion": "15",
        },
        "storage": {"resourceId": f"{stage}-vol", "bucket": f"{stage}-bucket"},
        "compute": {"group": f"{stage}-app", "minCount": min_count},
        "ingress": {"endpoint": f"http://{stage}/", "address": f"{stage}-ip"},
        "replication": {"user": "replicator", "password": "s3cret"},
    }


class FakeClock:
    """Time that passes only when the code waits (or a fake says it took time)."""

    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds

    def now(self) -> datetime:
        return START + timedelta(seconds=self.t)


@dataclass
class FakeEngine:
    """Deploys, outputs and destroys in memory; `log` is shared with the fake operations."""

    project: Project
    log: list[tuple[Any, ...]]
    clock: FakeClock
    outputs_by: dict[str, dict[str, Any]] = field(default_factory=dict)
    on_backend: set[str] = field(default_factory=set)
    up_seconds: float = 10.0
    fail_up: BaseException | None = None
    fail_destroy: set[str] = field(default_factory=set)

    def recorded_role(self, stage: str) -> str | None:
        path = self.project.stacks_dir / f"Pulumi.{stage}.yaml"
        dr = yaml.safe_load(path.read_text())["config"].get("stageline:disasterRecovery")
        return None if dr is None else str(dr.get("role", "standby"))

    def up(self, stage: str, wait: bool = True) -> None:
        self.log.append(("up", stage, self.recorded_role(stage)))
        self.clock.t += self.up_seconds
        if self.fail_up is not None:
            raise self.fail_up
        self.on_backend.add(stage)
        self.outputs_by.setdefault(stage, contract(stage, 1))

    def wait(self, stage: str) -> None:
        self.log.append(("wait", stage))
        self.clock.t += self.up_seconds

    def recover(self, stage: str) -> None:
        self.log.append(("recover", stage))

    def outputs(self, stage: str) -> Mapping[str, Any]:
        return self.outputs_by.get(stage, {})

    def destroy(self, stage: str, force_protected: bool) -> None:
        self.log.append(("destroy", stage, force_protected))
        if stage in self.fail_destroy:
            raise click.ClickException(f"stage {stage!r}: the engine could not delete it")
        self.on_backend.discard(stage)
        self.outputs_by.pop(stage, None)
        remove_ephemeral_file(self.project, stage)

    def stacks(self) -> list[str]:
        return sorted(self.on_backend)


@dataclass
class FakeOps:
    """A target's runtime operations over in-memory databases, one per stack."""

    log: list[tuple[Any, ...]]
    clock: FakeClock
    lag: float | None = 2.0
    promoted: set[str] = field(default_factory=set)
    unhealthy_polls: int = 2
    """Ingress answers unhealthy this many times after a promotion."""
    rows: dict[str, set[str]] = field(default_factory=dict)
    fail: dict[str, BaseException] = field(default_factory=dict)

    def _call(self, name: str, *args: Any) -> None:
        self.log.append((name, *args))
        if name in self.fail:
            raise self.fail[name]

    def replication(self, sides: DrSides) -> ReplicationState:
        self._call("replication", sides.replica.stack)
        if sides.replica.stack in self.promoted:
            return ReplicationState("active", False, None, detail="promoted")
        return ReplicationState("standby", True, self.lag, newest_object_age_seconds=7.5)

    def promote(self, sides: DrSides) -> None:
        self._call("promote", sides.replica.stack)
        self.promoted.add(sides.replica.stack)

    def scale(self, view: StackView, count: int) -> None:
        self._call("scale", view.stack, count)

    def route(self, sides: DrSides, to: StackView) -> None:
        self._call("route", sides.zone, to.stack)

    def ingress_health(self, view: StackView) -> IngressHealth:
        self.log.append(("ingress_health", view.stack))
        if view.stack in self.promoted:
            self.unhealthy_polls -= 1
            if self.unhealthy_polls >= 0:
                return IngressHealth(False, "502 no app yet")
        return IngressHealth(True, "200 appVersion 1.4.2", "1.4.2", "primary")

    def write_marker(self, view: StackView, name: str) -> Marker:
        self._call("write_marker", view.stack, name)
        self.rows.setdefault(view.stack, set()).add(name)
        return Marker(name, self.clock.now(), {"row": True, "object": True})

    def read_marker(self, view: StackView, name: str) -> Marker | None:
        self.log.append(("read_marker", view.stack))
        # The fake replica shows whatever its primary holds (it streams).
        if "read_marker" in self.fail:
            raise self.fail["read_marker"]
        if name not in self.rows.get(PRIMARY, set()):
            return None
        return Marker(name, START, {"row": True, "object": True})


@dataclass
class DrContext(CliContext):
    dr_seams: DrSeams | None = None


@dataclass
class World:
    root: Path
    clock: FakeClock
    log: list[tuple[Any, ...]]
    engine: FakeEngine
    ops: FakeOps
    backend: Backend

    @property
    def project(self) -> Project:
        return Project(self.root)

    def seams(self) -> DrSeams:
        return DrSeams(engine=self.engine, operations=lambda target: self.ops, clock=self.clock)  # type: ignore[arg-type]

    def run(self, *args: str, input: str | None = None) -> Result:
        obj = DrContext(self.project, _backend=self.backend, dr_seams=self.seams())
        result = CliRunner().invoke(cli, ["dr", *args], obj=obj, input=input)
        # A clear CLI error exits through SystemExit; anything else is a traceback.
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.output,
            result.exception,
        )
        return result

    def stack_file(self, stage: str) -> Path:
        return self.root / "stacks" / f"Pulumi.{stage}.yaml"

    @property
    def locks(self) -> Path:
        return locks_folder(dr_folder(self.backend, self.root))


@pytest.fixture
def world(stacks_copy: Path) -> World:
    root = stacks_copy.parent
    shutil.copy(REPO_STACKS.parent / "Pulumi.yaml", root)
    clock = FakeClock()
    log: list[tuple[Any, ...]] = []
    project = Project(root)
    engine = FakeEngine(
        project,
        log,
        clock,
        outputs_by={PRIMARY: contract(PRIMARY, 3), DR: contract(DR, 1)},
        on_backend={PRIMARY, DR},
    )
    state = root / "state"
    state.mkdir()
    backend = Backend(url=f"file://{state}", passphrase="pw", default_passphrase=False)
    return World(root, clock, log, engine, FakeOps(log, clock), backend)


def steps(log: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """What changed something: reads (replication, ingress, markers) left out."""
    reads = {"replication", "ingress_health", "read_marker"}
    return [entry for entry in log if entry[0] not in reads]


# --- failover -------------------------------------------------------------------------------


def test_failover_refuses_past_the_rpo_budget_naming_lag_budget_and_force(world: World) -> None:
    world.ops.lag = 120.0
    before = world.stack_file(DR).read_text()

    result = world.run("failover", DR, "--yes")

    assert result.exit_code == 1, result.output
    assert "replication lag is 120.0 s, past disasterRecovery.rpoSeconds 60 s" in result.output
    assert f"`stageline dr failover {DR} --force`" in result.output
    assert steps(world.log) == [], "nothing may change when the failover is refused"
    assert world.stack_file(DR).read_text() == before


def test_failover_refuses_an_unknown_lag_with_the_reason(world: World) -> None:
    world.ops.fail["replication"] = OperationFailed("ssh kvm01.dc2.internal: timed out")

    result = world.run("failover", DR, "--yes")

    assert result.exit_code == 1, result.output
    assert "replication lag is unknown (ssh kvm01.dc2.internal: timed out)" in result.output
    assert steps(world.log) == []


def test_failover_with_force_goes_on_past_the_budget(world: World) -> None:
    world.ops.lag = 120.0

    result = world.run("failover", DR, "--yes", "--force")

    assert result.exit_code == 0, result.output
    assert "going on (--force)" in result.output
    assert ("promote", DR) in world.log


def test_failover_runs_promote_scale_route_record_converge_in_that_order(world: World) -> None:
    result = world.run("failover", DR, "--yes")

    assert result.exit_code == 0, result.output
    # Scale to the primary's minCount (3), above the DR stage's own (1); the converge runs
    # with role: active already in the stack file.
    assert steps(world.log) == [
        ("promote", DR),
        ("scale", DR, 3),
        ("route", "onprem.internal", DR),
        ("up", DR, "active"),
        ("wait", DR),
    ]
    # RTO: converge (10 s) plus two unhealthy polls of 5 s, from the start of the promotion;
    # the wait for the rest of the scale-out comes after it.
    assert "failover took 20.0 s, within disasterRecovery.rtoSeconds 300 s" in result.output


def test_failover_without_a_zone_skips_routing(world: World) -> None:
    text = world.stack_file(DR).read_text().replace("    dnsZone: onprem.internal\n", "")
    world.stack_file(DR).write_text(text)

    result = world.run("failover", DR, "--yes")

    assert result.exit_code == 0, result.output
    assert not [e for e in world.log if e[0] == "route"]
    assert "routing skipped" in result.output


def test_failover_records_the_role_keeping_every_comment_and_line(world: World) -> None:
    before = world.stack_file(DR).read_text()

    result = world.run("failover", DR, "--yes")

    assert result.exit_code == 0, result.output
    after = world.stack_file(DR).read_text()
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["    role: active"], after
    assert [line for line in before.splitlines() if line not in after.splitlines()] == []
    assert after.startswith("# Disaster recovery for onprem"), "the header comment was lost"
    config = yaml.safe_load(after)["config"]
    assert config["stageline:disasterRecovery"]["role"] == "active"


def test_failover_run_again_after_a_failed_converge_finishes_it(world: World) -> None:
    world.engine.fail_up = click.ClickException("stage 'onprem-dr': the engine lost its host")
    first = world.run("failover", DR, "--yes")
    assert first.exit_code == 1, first.output
    assert "the engine lost its host" in first.output
    recorded = world.stack_file(DR).read_text()

    world.engine.fail_up = None
    world.ops.lag = 10_000.0  # a promoted replica's lag no longer matters
    second = world.run("failover", DR, "--yes")

    assert second.exit_code == 0, second.output
    assert "already promoted; finishing the failover" in second.output
    assert "already records role: active" in second.output
    assert world.stack_file(DR).read_text() == recorded
    assert [e for e in steps(world.log) if e[0] == "up"] == [("up", DR, "active")] * 2


def test_failover_asks_before_it_acts(world: World) -> None:
    result = world.run("failover", DR, input="n\n")

    assert result.exit_code == 1
    assert "Fail over from 'onprem' to 'onprem-dr'?" in result.output
    assert steps(world.log) == []


def test_an_operation_failure_is_one_clear_line(world: World) -> None:
    world.ops.fail["promote"] = OperationFailed("pg_promote on 10.71.0.5: permission denied")

    result = world.run("failover", DR, "--yes")

    assert result.exit_code == 1
    assert "Error: pg_promote on 10.71.0.5: permission denied" in result.output
    assert "Traceback" not in result.output


def test_a_primary_without_replica_outputs_is_refused_with_the_fix(world: World) -> None:
    del world.engine.outputs_by[PRIMARY]["replication"]

    result = world.run("failover", DR, "--yes")

    assert result.exit_code == 1
    assert "primary 'onprem' lacks outputs a replica needs (replication.user, " in result.output
    assert "`stageline up onprem`" in result.output


def test_a_stage_without_disaster_recovery_is_named_with_the_key(world: World) -> None:
    for command in (["up", "dev"], ["failover", "dev", "--yes"], ["status", "dev"]):
        result = world.run(*command)
        assert result.exit_code == 1, result.output
        assert "stage 'dev' is not a DR stage: Pulumi.dev.yaml has no " in result.output
        assert "stageline:disasterRecovery" in result.output


# --- the lock -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["up", DR], ["failover", DR, "--yes"], ["drill", DR]])
def test_a_second_run_on_the_stage_is_refused_while_one_holds_the_lock(
    world: World, command: list[str]
) -> None:
    with dr_lock(world.locks, DR, "failover"):
        result = world.run(*command)

    assert result.exit_code == 1, result.output
    assert f"stage '{DR}' is busy: `stageline dr failover` (pid " in result.output
    assert steps(world.log) == []
    assert not list(world.root.glob("stacks/*-drill-*")), "a refused drill made a stack file"


def test_the_lock_is_released_after_a_run(world: World) -> None:
    assert world.run("up", DR).exit_code == 0
    assert world.run("up", DR).exit_code == 0


# --- up, status, down, failback -------------------------------------------------------------


def test_up_deploys_then_waits_until_it_streams(world: World) -> None:
    result = world.run("up", DR)

    assert result.exit_code == 0, result.output
    assert steps(world.log) == [("up", DR, "standby")]
    assert f"{DR}: standby, streaming, lag 2.0 s (rpoSeconds 60)" in result.output


def test_up_gives_up_after_its_timeout_naming_what_it_saw(world: World) -> None:
    world.ops.lag = None

    result = world.run("up", DR, "--timeout", "12")

    assert result.exit_code == 1
    assert "onprem-dr does not replicate from onprem after 12 s: standby, streaming, lag " in (
        result.output
    )


def test_status_json_has_config_and_runtime_side_by_side(world: World) -> None:
    world.ops.lag = 75.0

    result = world.run("status", DR, "--format", "json")

    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status == {
        "stage": DR,
        "primary": PRIMARY,
        "mode": "warm-standby",
        "role": {"recorded": "standby", "actual": "standby"},
        "rpoSeconds": 60,
        "rtoSeconds": 300,
        "dnsZone": "onprem.internal",
        "replication": {
            "streaming": True,
            "lagSeconds": 75.0,
            "withinRpo": False,
            "newestObjectAgeSeconds": 7.5,
            "detail": "",
        },
        "ingress": {
            side: {
                "stack": stack,
                "healthy": True,
                "detail": "200 appVersion 1.4.2",
                "appVersion": "1.4.2",
                "databaseRole": "primary",
            }
            for side, stack in (("primary", PRIMARY), ("replica", DR))
        },
    }


def test_status_table_shows_an_unreachable_side_without_hiding_the_rest(world: World) -> None:
    world.ops.fail["replication"] = OperationFailed("ssh kvm01.dc1.internal: no route")

    result = world.run("status", DR)

    assert result.exit_code == 0, result.output
    assert "NOT streaming" in result.output
    rows = {
        name: value
        for name, _, value in (line.strip().partition("  ") for line in result.output.splitlines())
    }
    assert rows["lag (RPO now)"].strip() == "unknown (rpoSeconds 60)", rows
    assert rows["detail"].strip() == "cannot ask: ssh kvm01.dc1.internal: no route", rows
    assert rows["ingress onprem-dr"].strip() == "healthy: 200 appVersion 1.4.2", rows


def test_down_confirms_and_destroys_through_the_protected_path(world: World) -> None:
    refused = world.run("down", DR, input="n\n")
    assert refused.exit_code == 1 and steps(world.log) == []

    result = world.run("down", DR, "--yes")

    assert result.exit_code == 0, result.output
    # onprem-dr is protected (production, protectData): destroy's --force-protected path,
    # which leaves retainOnDelete data in place.
    assert steps(world.log) == [("destroy", DR, True)]
    assert "protected data resources (database volume, bucket) are retained" in result.output


def test_down_refuses_an_active_dr_stage(world: World) -> None:
    assert world.run("failover", DR, "--yes").exit_code == 0
    world.log.clear()

    result = world.run("down", DR, "--yes")

    assert result.exit_code == 1
    assert "records role: active" in result.output and "dr failback" in result.output
    assert steps(world.log) == []


def test_failback_needs_an_active_stage(world: World) -> None:
    result = world.run("failback", DR, "--yes")

    assert result.exit_code == 1
    assert "records role: standby" in result.output
    assert steps(world.log) == []


def test_failback_on_a_target_that_cannot_rebuild_says_so_and_changes_nothing(
    world: World,
) -> None:
    assert world.run("failover", DR, "--yes").exit_code == 0
    world.log.clear()
    before = world.stack_file(DR).read_text()

    result = world.run("failback", DR, "--yes")

    assert result.exit_code == 1
    assert "cannot rebuild 'onprem' as a replica of 'onprem-dr' yet" in result.output
    assert steps(world.log) == [] and world.stack_file(DR).read_text() == before


@dataclass
class FailbackOps(FakeOps):
    def rebuild_replica(self, sides: DrSides) -> None:
        self._call("rebuild_replica", sides.primary.stack, sides.replica.stack)
        self.promoted.discard(sides.replica.stack)

    def switchover(self, sides: DrSides) -> None:
        self._call("switchover", sides.primary.stack, sides.replica.stack)
        self.promoted.discard(sides.primary.stack)


def test_failback_rebuilds_switches_over_routes_and_records_standby(world: World) -> None:
    world.ops = FailbackOps(world.log, world.clock)
    assert world.run("failover", DR, "--yes").exit_code == 0
    world.log.clear()

    result = world.run("failback", DR, "--yes")

    assert result.exit_code == 0, result.output
    assert steps(world.log) == [
        ("rebuild_replica", DR, PRIMARY),
        ("switchover", DR, PRIMARY),
        ("route", "onprem.internal", PRIMARY),
        ("up", PRIMARY, None),
        ("up", DR, "standby"),
    ]
