"""Disaster recovery on real sites: onprem on dc1, its warm standby onprem-dr on dc2.

Real guests under TCG, as in test_libvirt_guests.py; checks read libvirt, the guests (through
the QEMU guest agent) and the stack files, not only what the CLI prints. onprem runs a pinned
release (a hotfix pin) so `local` need not run, and a trimmed size: two app VMs (so a failover
has something to scale to) and one database server. Run under the libvirt lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from tests.integration.libvirt_checks import (
    GUEST_IMAGE,
    LOCAL_URI,
    POOLS,
    cli_on,
    in_guest,
    libvirt_stages,
    objects,
    ok,
    sql,
    ssh,
)

pytestmark = pytest.mark.integration

Run = Callable[..., Result]
ONPREM = {
    "tier": "preproduction",
    "release": {"appVersion": "2.0.0", "artifact": "file://examples/app"},
    "compute.minCount": 2,
    "compute.size": "xsmall",
    "database.size": "xsmall",
    "database.highAvailability": False,
}
DR = {
    "tier": "preproduction",
    "compute.size": "xsmall",
    "database.size": "xsmall",
    "database.highAvailability": False,
}
DR_INGRESS = "10.71.0.4"
ONPREM_INGRESS = "10.70.0.4"
SLOT = "dr_onprem_dr"


@pytest.fixture
def sites(project_dir: Path, tmp_path: Path) -> Iterator[Path]:
    assert GUEST_IMAGE.is_file(), f"{GUEST_IMAGE} missing: run scripts/services"
    with libvirt_stages(project_dir, tmp_path.name, GUEST_IMAGE, ONPREM, DR) as project:
        yield project


@pytest.fixture
def sl(sites: Path) -> Run:
    return cli_on(sites)


def recorded_role(project: Path) -> str:
    data = yaml.safe_load((project / "stacks/Pulumi.onprem-dr.yaml").read_text())
    return str(data["config"]["stageline:disasterRecovery"]["role"])


def resolves(domain: str, name: str) -> str:
    """What the site network's DNS answers a guest for `name`."""
    return in_guest(LOCAL_URI, domain, f"getent hosts {name} | cut -d' ' -f1").strip()


def changes_nothing(result: Result) -> None:
    for word in (" create", " update", " replace", " delete"):
        assert word not in result.output.split("release")[0], result.output


def test_dr_up_drill_failover_failback_down(sl: Run, sites: Path) -> None:
    ok(sl("up", "onprem", "--no-wait"))

    # dr up: the standby on dc2 clones onprem's database and streams through its own slot.
    up = ok(sl("dr", "up", "onprem-dr"))
    assert "streaming" in up.output, up.output
    assert sql(LOCAL_URI, "onprem-dr-db-0", "SELECT pg_is_in_recovery()") == "t"
    sender = f"SELECT state FROM pg_stat_replication WHERE application_name = '{SLOT}'"
    assert sql(LOCAL_URI, "onprem-db-0", sender) == "streaming"
    status = json.loads(ok(sl("dr", "status", "onprem-dr", "--format", "json")).output)
    assert status["mode"] == "warm-standby" and status["role"]["actual"] == "standby", status
    assert status["replication"]["streaming"] is True, status
    assert status["replication"]["withinRpo"] is True, status
    # Warm standby: the DR site runs its own minCount (1) of app VMs, healthy on the replica.
    dr_apps = sorted(d for d in objects(LOCAL_URI, "onprem-dr-app-").domains)
    assert dr_apps == ["onprem-dr-app-0"], dr_apps
    assert resolves("onprem-app-0", "app.onprem.internal") == ONPREM_INGRESS

    # A drill: a scratch replica beside onprem-dr, promoted in isolation, then removed.
    drill = ok(sl("dr", "drill", "onprem"))
    (report_file,) = (sites / "drills").glob("onprem-*.json")
    report = json.loads(report_file.read_text())
    assert report["passed"] is True, report
    measured = report["measured"]
    assert measured["rtoSeconds"] > 0 and measured["rpoSeconds"] is not None, report
    assert measured["markerFound"] == {"row": True}, report
    assert report["pass"]["cleanup"] is True, report
    assert (sites / "drills" / report_file.name.replace(".json", ".md")).is_file()
    assert "RTO" in drill.output, drill.output
    left = objects(LOCAL_URI, "onprem-dr-drill-")
    assert not (left.domains or left.networks or left.pools), left
    assert not list((sites / "stacks").glob("Pulumi.onprem-dr-drill-*.yaml"))
    slots = sql(LOCAL_URI, "onprem-db-0", "SELECT slot_name FROM pg_replication_slots")
    assert slots.split() == [SLOT], slots
    # ...leaving production as it was.
    assert sql(LOCAL_URI, "onprem-db-0", "SELECT pg_is_in_recovery()") == "f"
    assert sql(LOCAL_URI, "onprem-db-0", sender) == "streaming"

    # Failover: a row written before it is there, the app serves on dc2 at onprem's size, and
    # the failover name points at dc2.
    sql(LOCAL_URI, "onprem-db-0", "CREATE TABLE orders (id text); INSERT INTO orders VALUES ('a')")
    failover = ok(sl("dr", "failover", "onprem-dr", "--yes"))
    assert "failover took" in failover.output, failover.output
    assert recorded_role(sites) == "active"
    assert sql(LOCAL_URI, "onprem-dr-db-0", "SELECT pg_is_in_recovery()") == "f"
    assert sql(LOCAL_URI, "onprem-dr-db-0", "SELECT id FROM orders") == "a"
    dr_apps = sorted(d for d in objects(LOCAL_URI, "onprem-dr-app-").domains)
    assert dr_apps == ["onprem-dr-app-0", "onprem-dr-app-1"], dr_apps
    for guest in ("onprem-app-0", "onprem-dr-app-0"):
        assert resolves(guest, "app.onprem.internal") == DR_INGRESS, guest
    status = json.loads(ok(sl("dr", "status", "onprem-dr", "--format", "json")).output)
    assert status["role"] == {"recorded": "active", "actual": "active"}, status
    assert status["ingress"]["replica"]["healthy"] is True, status

    # The IaC keeps the failover: a later up of either stack changes nothing.
    changes_nothing(ok(sl("up", "onprem-dr", "--no-wait")))
    changes_nothing(ok(sl("up", "onprem", "--no-wait")))
    assert sql(LOCAL_URI, "onprem-dr-db-0", "SELECT pg_is_in_recovery()") == "f"
    assert resolves("onprem-dr-app-0", "app.onprem.internal") == DR_INGRESS

    # Failback: onprem follows dc2, then takes over with nothing lost.
    sql(LOCAL_URI, "onprem-dr-db-0", "INSERT INTO orders VALUES ('written on dc2')")
    ok(sl("dr", "failback", "onprem-dr", "--yes"))
    assert recorded_role(sites) == "standby"
    assert sql(LOCAL_URI, "onprem-db-0", "SELECT pg_is_in_recovery()") == "f"
    rows = sql(LOCAL_URI, "onprem-db-0", "SELECT id FROM orders ORDER BY id")
    assert rows.splitlines() == ["a", "written on dc2"], rows
    assert sql(LOCAL_URI, "onprem-dr-db-0", "SELECT pg_is_in_recovery()") == "t"
    assert sql(LOCAL_URI, "onprem-db-0", sender) == "streaming"
    assert resolves("onprem-app-0", "app.onprem.internal") == ONPREM_INGRESS

    # dr down: the DR stage goes, its data volumes stay (protectData), its slot is dropped.
    ok(sl("dr", "down", "onprem-dr", "--yes"))
    gone = objects(LOCAL_URI, "onprem-dr-")
    assert not gone.domains, gone
    kept = sorted(p.name for p in POOLS.glob("*/onprem-dr-vm/*-data.qcow2"))
    assert kept == ["onprem-dr-db-0-data.qcow2"], kept
    assert sql(LOCAL_URI, "onprem-db-0", "SELECT count(*) FROM pg_replication_slots") == "0"


@contextmanager
def drill_process(project: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`stageline dr drill onprem` as a user runs it, in its own process group, its output in
    `log`. The group is killed on the way out, so a failed check never leaves a drill running
    on while the fixtures clean the host."""
    with log.open("wb") as out:
        drill = subprocess.Popen(
            [sys.executable, "-m", "stageline.cli.main", "dr", "drill", "onprem"],
            cwd=project,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield drill
        finally:
            if drill.poll() is None:
                os.killpg(drill.pid, signal.SIGKILL)
            drill.wait(timeout=60)


def test_a_drill_cleans_up_when_the_primary_site_is_down_or_the_drill_is_killed(
    sl: Run, sites: Path, tmp_path: Path
) -> None:
    ok(sl("up", "onprem", "--no-wait"))

    # The primary's SSH host is down: the drill fails with a clear error, and removes its
    # scratch stack all the same.
    ssh(up=False)
    try:
        failed = sl("dr", "drill", "onprem")
    finally:
        ssh(up=True)
    assert failed.exit_code != 0, failed.output
    assert "Traceback" not in failed.output, failed.output
    # Refused before the scratch stack registers anything, naming the primary and its site.
    assert "stageline:promotesFrom = 'onprem'" in failed.output, failed.output
    assert "the primary's site qemu+ssh://root@10.250.0.2/system" in failed.output, failed.output
    assert "scratch stack removed: yes" in "".join(
        p.read_text() for p in (sites / "drills").glob("*.md")
    )
    left = objects(LOCAL_URI, "onprem-dr-drill-")
    assert not (left.domains or left.networks or left.pools), left

    # kill -9 in the middle of a drill: `dr gc` removes what it left.
    log = tmp_path / "drill.log"
    with drill_process(sites, log) as drill:  # killed -9 on leaving the block
        deadline = time.monotonic() + 600
        while not objects(LOCAL_URI, "onprem-dr-drill-").domains:
            assert drill.poll() is None, f"the drill ended before its VMs:\n{log.read_text()}"
            assert time.monotonic() < deadline, "the drill made no VMs in 600 s"
            time.sleep(2)
    assert objects(LOCAL_URI, "onprem-dr-drill-").domains, "nothing left to collect"
    gc = ok(sl("dr", "gc"))
    assert "onprem-dr-drill-" in gc.output, gc.output
    left = objects(LOCAL_URI, "onprem-dr-drill-")
    assert not (left.domains or left.networks or left.pools), left
    assert not list((sites / "stacks").glob("Pulumi.onprem-dr-drill-*.yaml"))
    stacks = ok(sl("dr", "gc", "--dry-run"))
    assert "onprem-dr-drill-" not in stacks.output, stacks.output
