"""`stageline dr drill` and `stageline dr gc`: measured, reported, and nothing left behind."""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import timedelta
from typing import Any

import click
import yaml

from components.dr_ops import OperationFailed
from stageline.dr.places import dr_folder, tags_folder
from stageline.dr.scratch import DrillTag, write_tag
from tests.unit.test_dr_operator import DR, PRIMARY, START, World, steps, world

__all__ = ["world"]  # the fixture, shared with the failover tests

DRILL = re.compile(rf"^{DR}-drill-[0-9a-f]{{6}}$")


def reports(world: World) -> tuple[dict[str, Any], str]:
    (json_file,) = (world.root / "drills").glob(f"{PRIMARY}-*.json")
    md_file = json_file.with_suffix(".md")
    assert re.fullmatch(rf"{PRIMARY}-\d{{8}}T\d{{6}}Z\.json", json_file.name), json_file.name
    return json.loads(json_file.read_text()), md_file.read_text()


def scratch_of(world: World) -> str:
    names = {e[1] for e in world.log if e[0] in ("up", "destroy")}
    (scratch,) = [n for n in names if DRILL.match(n)]
    return scratch


def nothing_left(world: World, scratch: str) -> None:
    assert scratch not in world.engine.on_backend, "the scratch stack is still on the backend"
    assert not list(world.root.glob("stacks/*-drill-*")), "the scratch stack file is left"
    assert not list(tags_folder(dr_folder(world.backend, world.root)).glob("*.json"))


def test_a_drill_promotes_only_the_scratch_copy_measures_and_cleans_up(world: World) -> None:
    seen: dict[str, Any] = {}
    original_up = world.engine.up

    def up(stage: str, wait: bool = True) -> None:
        # The scratch copy as deployed: unprotected, no routing, an ephemeral copy of the DR stage.
        path = world.stack_file(stage)
        seen.setdefault(stage, yaml.safe_load(path.read_text())["config"])
        original_up(stage, wait)

    world.engine.up = up  # type: ignore[method-assign]

    result = world.run("drill", PRIMARY)

    assert result.exit_code == 0, result.output
    scratch = scratch_of(world)
    config = seen[scratch]
    assert config["stageline:stage"] == DR
    assert config["stageline:tier"] == "ephemeral"
    assert config["stageline:protectData"] is False
    assert config["stageline:database"]["deletionProtection"] is False
    assert "dnsZone" not in config["stageline:disasterRecovery"]
    # Production is untouched: only the scratch copy is promoted, nothing is routed.
    assert steps(world.log) == [
        ("up", scratch, "standby"),
        ("write_marker", PRIMARY, f"drill-{scratch}"),
        ("promote", scratch),
        ("scale", scratch, 3),
        ("up", scratch, "active"),
        ("destroy", scratch, False),
    ]
    nothing_left(world, scratch)

    report, markdown = reports(world)
    # RTO: the converge (10 s) and two unhealthy 5 s polls after the promotion began. RPO: the
    # lag before promoting (2.0 s) beats the marker's delay (seen at once, 0 s).
    assert report["measured"]["rtoSeconds"] == 20.0
    assert report["measured"]["lagAtPromotionSeconds"] == 2.0
    assert report["measured"]["markerDelaySeconds"] == 0.0
    assert report["measured"]["rpoSeconds"] == 2.0
    assert report["measured"]["markerFound"] == {"row": True, "object": True}
    assert report["targets"] == {"rtoSeconds": 300, "rpoSeconds": 60}
    assert report["pass"] == {"rto": True, "rpo": True, "steps": True, "cleanup": True}
    assert report["passed"] is True and report["errors"] == []
    assert report["scratchStack"] == scratch and report["drStage"] == DR
    durations = {s["name"]: s["seconds"] for s in report["steps"]}
    assert durations["deploy the scratch stack"] == 10.0
    assert durations["wait until the scratch ingress is healthy"] == 10.0
    assert "# DR drill of onprem-dr: PASSED" in markdown
    assert "| RTO | 300 s | 20.0 s | pass |" in markdown
    assert "| RPO | 60 s | 2.0 s | pass |" in markdown


def test_a_failed_step_is_reported_and_the_scratch_stack_still_removed(world: World) -> None:
    world.ops.fail["write_marker"] = OperationFailed("ssh kvm01.dc1.internal: connection refused")

    result = world.run("drill", DR)

    assert result.exit_code == 1, result.output
    assert "drill failed: write a marker into the primary: ssh kvm01.dc1.internal" in result.output
    scratch = scratch_of(world)
    assert ("destroy", scratch, False) in world.log
    assert ("promote", scratch) not in world.log
    nothing_left(world, scratch)
    (json_file,) = (world.root / "drills").glob(f"{DR}-*.json")
    report = json.loads(json_file.read_text())
    assert report["passed"] is False and report["pass"]["cleanup"] is True
    assert report["errors"] == [
        "write a marker into the primary: ssh kvm01.dc1.internal: connection refused"
    ]
    assert report["measured"]["rtoSeconds"] is None
    assert json_file.with_suffix(".md").is_file()


def test_ctrl_c_during_a_drill_still_removes_the_scratch_stack(world: World) -> None:
    world.engine.fail_up = KeyboardInterrupt()

    result = world.run("drill", DR)

    assert result.exit_code == 1
    scratch = scratch_of(world)
    nothing_left(world, scratch)
    (json_file,) = (world.root / "drills").glob(f"{DR}-*.json")
    assert json.loads(json_file.read_text())["errors"] == ["deploy the scratch stack: interrupted"]


def test_a_missed_rto_fails_the_drill_after_cleanup(world: World) -> None:
    world.engine.up_seconds = 400.0

    result = world.run("drill", DR)

    assert result.exit_code == 1, result.output
    assert "RTO 410.0 s (target 300 s, FAIL)" in result.output
    scratch = scratch_of(world)
    nothing_left(world, scratch)
    report = json.loads(next((world.root / "drills").glob("*.json")).read_text())
    assert report["pass"]["rto"] is False and report["pass"]["rpo"] is True


def test_a_marker_that_never_arrives_leaves_the_rpo_unknown_and_failed(world: World) -> None:
    world.ops.fail["read_marker"] = OperationFailed("no such row")

    result = world.run("drill", DR)

    assert result.exit_code == 1, result.output
    report = json.loads(next((world.root / "drills").glob("*.json")).read_text())
    assert report["measured"]["rpoSeconds"] is None
    assert report["pass"]["rpo"] is False
    # The promotion is still measured.
    assert report["measured"]["rtoSeconds"] is not None


def test_a_failed_cleanup_keeps_the_tag_for_gc_and_says_so(world: World) -> None:
    original = world.engine.destroy

    def destroy(stage: str, force_protected: bool) -> None:
        world.engine.fail_destroy.add(stage)
        original(stage, force_protected)

    world.engine.destroy = destroy  # type: ignore[method-assign]

    result = world.run("drill", DR)

    assert result.exit_code == 1
    assert "run `stageline dr gc`" in result.output
    scratch = scratch_of(world)
    assert (tags_folder(dr_folder(world.backend, world.root)) / f"{scratch}.json").is_file()


# --- gc -------------------------------------------------------------------------------------


def drill_stack(world: World, name: str, pid: int, host: str, ttl_left: float) -> str:
    stack = f"{DR}-drill-{name}"
    created = START - timedelta(hours=1)
    tag = DrillTag.new(stack, DR, created, 3600 + ttl_left)
    write_tag(
        tags_folder(dr_folder(world.backend, world.root)),
        DrillTag(stack, DR, pid, host, tag.created_at, tag.deadline),
    )
    world.engine.on_backend.add(stack)
    return stack


def dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_gc_removes_dead_and_expired_drills_only_and_goes_on_past_a_failure(
    world: World,
) -> None:
    host = socket.gethostname()
    dead = drill_stack(world, "dead01", dead_pid(), host, ttl_left=600)
    running = drill_stack(world, "live01", os.getpid(), host, ttl_left=600)
    expired = drill_stack(world, "old001", os.getpid(), host, ttl_left=-1)
    elsewhere = drill_stack(world, "away01", 1, "another-host", ttl_left=600)
    stuck = drill_stack(world, "stuck1", dead_pid(), host, ttl_left=600)
    untagged = f"{DR}-drill-0ff1ce"
    world.engine.on_backend.add(untagged)
    world.engine.fail_destroy.add(stuck)

    result = world.run("gc")

    assert result.exit_code == 1, result.output
    destroyed = {e[1] for e in world.log if e[0] == "destroy"}
    assert destroyed == {dead, expired, stuck, untagged}
    # Each is recovered first (a killed update's lock and unrecorded objects), then destroyed.
    for stack in destroyed:
        entries = [e[0] for e in world.log if e[1] == stack and e[0] in ("recover", "destroy")]
        assert entries == ["recover", "destroy"], (stack, entries)
    assert world.engine.on_backend == {PRIMARY, DR, running, elsewhere, stuck}
    assert f"{dead}: removing (its process " in result.output
    assert f"{expired}: removing (its TTL passed at " in result.output
    assert f"{untagged}: removing (no drill tag: its run is gone)" in result.output
    assert f"{running}: kept, running (pid {os.getpid()} on this host" in result.output
    assert f"{elsewhere}: kept, running (pid 1 on another-host" in result.output
    assert f"{stuck}: could not be removed: stage '{stuck}': the engine could not" in (
        result.output
    )
    assert f"could not remove {stuck}" in result.output
    # Destroy saw each scratch copy (unprotected), re-made where the killed drill left none.
    assert not list(world.root.glob("stacks/*-drill-*dead01*"))
    folder = tags_folder(dr_folder(world.backend, world.root))
    assert sorted(p.stem for p in folder.glob("*.json")) == sorted([running, elsewhere, stuck])


def test_gc_remakes_the_scratch_file_so_destroy_sees_an_unprotected_copy(world: World) -> None:
    dead = drill_stack(world, "dead02", dead_pid(), socket.gethostname(), ttl_left=600)
    seen: list[Any] = []
    original = world.engine.destroy

    def destroy(stage: str, force_protected: bool) -> None:
        config = yaml.safe_load(world.stack_file(stage).read_text())["config"]
        seen.append((config["stageline:tier"], config["stageline:protectData"]))
        original(stage, force_protected)

    world.engine.destroy = destroy  # type: ignore[method-assign]

    assert world.run("gc").exit_code == 0
    assert seen == [("ephemeral", False)]
    assert dead not in world.engine.on_backend


def test_gc_dry_run_removes_nothing(world: World) -> None:
    dead = drill_stack(world, "dead03", dead_pid(), socket.gethostname(), ttl_left=600)

    result = world.run("gc", "--dry-run")

    assert result.exit_code == 0, result.output
    assert f"{dead}: would remove (its process " in result.output
    assert steps(world.log) == [] and dead in world.engine.on_backend


def test_gc_with_nothing_to_do_says_so(world: World) -> None:
    result = world.run("gc")
    assert result.exit_code == 0 and "no drills found" in result.output


def test_a_cli_error_inside_gc_is_not_a_traceback(world: World) -> None:
    def stacks() -> list[str]:
        raise click.ClickException("backend file:///x: incorrect passphrase")

    world.engine.stacks = stacks  # type: ignore[method-assign]
    result = world.run("gc")
    assert result.exit_code == 1 and "incorrect passphrase" in result.output


def test_gc_remakes_a_bare_scratch_file_keeping_its_encryption_salt(world: World) -> None:
    # The engine wrote a bare stack file for the scratch stack (only its salt): destroy must
    # still see the unprotected, ephemeral copy, and the salt its state's secrets need.
    stack = f"{DR}-drill-ba4e01"
    world.engine.on_backend.add(stack)
    world.stack_file(stack).write_text("encryptionsalt: v1:c2FsdA==:v1:abc\n")
    seen: list[str] = []
    original = world.engine.destroy

    def destroy(stage: str, force_protected: bool) -> None:
        seen.append(world.stack_file(stage).read_text())
        original(stage, force_protected)

    world.engine.destroy = destroy  # type: ignore[method-assign]

    assert world.run("gc").exit_code == 0
    (text,) = seen
    assert world.project.is_ephemeral(stack) is False  # removed with its stack
    assert text.startswith("# Ephemeral copy made by stageline")
    assert text.endswith("encryptionsalt: v1:c2FsdA==:v1:abc\n")
    assert yaml.safe_load(text)["config"]["stageline:protectData"] is False
