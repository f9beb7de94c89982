"""Real guests: the Debian 12 image boots, runs the release and a replicating PostgreSQL.

These tests deploy with the real program on libvirtd (TCG; `domainType: auto` finds this
host's KVM unusable for a real kernel) and look inside the guests the way an operator can:
from the guests' network namespace (the app's /healthz) and through the QEMU guest agent
(PostgreSQL). Guests boot in about a minute; each test says what it waits for.
Run under the libvirt lock: they create `local-*` and `onprem-*` objects.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import edit_stack_file
from tests.integration.libvirt_checks import (
    GUEST_IMAGE,
    LOCAL_URI,
    cli_on,
    dc1_uri,
    guest_ip,
    healthz_in_namespace,
    in_guest,
    libvirt_stages,
    objects,
    ok,
    sql,
)

pytestmark = pytest.mark.integration

LOCAL = LOCAL_URI
PORT = 8080

Run = Callable[..., Result]


@pytest.fixture
def guests_project(project_dir: Path, tmp_path: Path) -> Iterator[Path]:
    assert GUEST_IMAGE.is_file(), f"{GUEST_IMAGE} missing: run scripts/services"
    # Two cores run every guest under TCG: one app VM, and the HA pair, keep it in minutes.
    smaller = {"compute.minCount": 1, "compute.size": "xsmall", "database.size": "xsmall"}
    with libvirt_stages(project_dir, tmp_path.name, GUEST_IMAGE, smaller) as project:
        yield project


@pytest.fixture
def sl(guests_project: Path) -> Run:
    return cli_on(guests_project)


def status(sl: Run, stage: str) -> dict[str, object]:
    return json.loads(ok(sl("status", stage, "--format", "json")).output)


def test_up_local_serves_the_release_with_its_database(sl: Run) -> None:
    up = ok(sl("up", "local"))
    assert "local: 3 machines healthy" in up.output, up.output
    assert "stageline status local" in up.output, up.output

    # The app, asked on its own network: the release's version, and a TLS + scram login to
    # the stage's database that returned its role.
    code, body = healthz_in_namespace(guest_ip(LOCAL, "local-net", "local-app-0"), PORT)
    assert code == 200, body
    assert body["appVersion"] == "1.0.0", body
    assert body["database"] == {**body["database"], "reachable": True, "role": "primary"}, body
    # ...and through the stage's ingress proxy, at its fixed address on port 80.
    contract = json.loads(ok(sl("outputs", "local")).output)
    assert contract["ingress"]["endpoint"] == "http://192.168.150.4/", contract["ingress"]
    code, body = healthz_in_namespace("192.168.150.4", 80)
    assert code == 200 and body["appVersion"] == "1.0.0", body

    # The database, asked inside its VM: scram only, TLS on, the role's password a scram
    # verifier, the data on the data volume.
    assert sql(LOCAL, "local-db-0", "SHOW ssl") == "on"
    assert sql(LOCAL, "local-db-0", "SHOW password_encryption") == "scram-sha-256"
    verifier = sql(
        LOCAL, "local-db-0", "SELECT rolpassword FROM pg_authid WHERE rolname = 'stageline'"
    )
    assert verifier.startswith("SCRAM-SHA-256$"), "the app role has no scram verifier"
    mounts = in_guest(LOCAL, "local-db-0", "findmnt -no SOURCE /var/lib/postgresql")
    assert mounts.strip() == "/dev/vdb", mounts
    report = status(sl, "local")
    assert report["healthy"] is True, report
    app = next(m for m in report["machines"] if m["role"] == "app")
    assert app["app"]["appVersion"] == "1.0.0", app
    assert app["kind"] == "qemu", "auto must fall back to TCG on a host whose KVM cannot boot Linux"
    # ...and says so, with the probe's finding.
    (note,) = report["notes"]
    assert note.startswith("domainType auto runs the VMs under QEMU software emulation"), note
    assert "KVM cannot run the kernel" in note, note
    assert f"warning: {note}" in up.output, up.output


def gate_line(output: str, gate: str) -> str:
    """The dry run's line for one gate (`  passed  verify: ...` / `  BLOCKED verify: ...`)."""
    return next(line.strip() for line in output.splitlines() if f" {gate}: " in line)


def test_promote_onprem_serves_the_new_release_and_streams(sl: Run, guests_project: Path) -> None:
    edit_stack_file(guests_project / "stacks/Pulumi.local.yaml", {"release.appVersion": "1.1.0"})
    ok(sl("up", "local"))

    # The gates, against the running upstream: verify asks local's ingress (through its
    # agent) for the release; onprem is production, so it needs an approval; a soak of an
    # hour cannot have passed right after local's update.
    edit_stack_file(guests_project / "stacks/Pulumi.onprem.yaml", {"gates.soakMinutes": 60})
    dry = sl("promote", "onprem", "--dry-run")
    assert dry.exit_code == 1, dry.output
    assert gate_line(dry.output, "verify").startswith(
        "passed  verify: local's ingress answered 200, appVersion 1.1.0"
    ), dry.output
    assert gate_line(dry.output, "approval") == (
        "BLOCKED approval: needs an approval: onprem is production"
    ), dry.output
    assert gate_line(dry.output, "soakMinutes").startswith(
        "BLOCKED soakMinutes: 1.1.0 has run on local only since"
    ), dry.output
    assert not objects(dc1_uri(), "onprem-").domains, "a dry run must create nothing"
    edit_stack_file(guests_project / "stacks/Pulumi.onprem.yaml", {"gates.soakMinutes": 0})

    promoted = ok(sl("promote", "onprem", "--yes", "--approved-by", "ops-lead"))
    assert "1.1.0" in promoted.output, promoted.output
    assert "onprem: 4 machines healthy" in promoted.output, promoted.output
    (record,) = json.loads(ok(sl("history", "onprem", "--format", "json")).output)
    assert record["approved_by"] == "ops-lead" and record["from_stage"] == "local", record
    assert record["release"]["appVersion"] == "1.1.0" and record["result"] == "succeeded"
    assert all(g["passed"] for g in record["gates"]), record

    # An upstream whose app stopped answers 503 through its proxy: verify blocks.
    in_guest(LOCAL, "local-app-0", "systemctl stop stageline-app")
    blocked = sl("promote", "onprem", "--dry-run", "--approved-by", "ops-lead")
    assert blocked.exit_code == 1, blocked.output
    assert gate_line(blocked.output, "verify").startswith(
        "BLOCKED verify: local's ingress is not healthy:"
    ), blocked.output
    in_guest(LOCAL, "local-app-0", "systemctl start stageline-app")

    # Widening onprem's ingress needs an approval even where its gates ask for none.
    edit_stack_file(
        guests_project / "stacks/Pulumi.onprem.yaml",
        {"gates.approval": False, "ingress.allowedCidrs": ["10.99.0.0/24"]},
    )
    widened = sl("promote", "onprem", "--dry-run")
    assert widened.exit_code == 1, widened.output
    approval = gate_line(widened.output, "approval")
    assert approval.startswith("BLOCKED approval: needs an approval: "), widened.output
    assert "widens its ingress: 10.99.0.0/24 -> 80" in approval, widened.output
    assert "onprem is production" not in approval, widened.output

    code, body = healthz_in_namespace(guest_ip(LOCAL, "onprem-net", "onprem-app-0"), PORT)
    assert code == 200 and body["appVersion"] == "1.1.0", body
    assert body["database"]["role"] == "primary", body

    uri = dc1_uri()
    # The standby streams through its slot...
    assert sql(uri, "onprem-db-0", "SELECT state FROM pg_stat_replication") == "streaming"
    assert sql(uri, "onprem-db-0", "SELECT active FROM pg_replication_slots") == "t"
    assert sql(uri, "onprem-db-1", "SELECT pg_is_in_recovery()") == "t"
    # ...and a row written on the primary is read on the standby.
    sql(uri, "onprem-db-0", "CREATE TABLE drill (note text); INSERT INTO drill VALUES ('x1')")
    wal = sql(uri, "onprem-db-0", "SELECT pg_current_wal_lsn()")
    sql(
        uri,
        "onprem-db-1",
        f"DO $$ BEGIN WHILE pg_last_wal_replay_lsn() < '{wal}' LOOP PERFORM pg_sleep(0.2);"
        " END LOOP; END $$",
    )
    assert sql(uri, "onprem-db-1", "SELECT note FROM drill") == "x1"

    report = status(sl, "onprem")
    standby = next(m for m in report["machines"] if m["name"] == "onprem-db-1")
    assert standby["database"]["role"] == "standby", standby
    assert standby["database"]["replication"] == "streaming", standby


def test_a_release_that_cannot_start_fails_up_naming_the_vm_and_step(
    sl: Run, guests_project: Path, tmp_path: Path
) -> None:
    # A release archive without its `start`: accepted as an archive, refused in the guest.
    broken = tmp_path / "broken-1.0.0.tar.gz"
    with tarfile.open(broken, "w:gz") as tar:
        readme = tmp_path / "README"
        readme.write_text("no start here\n")
        tar.add(readme, arcname="README")
    edit_stack_file(
        guests_project / "stacks/Pulumi.local.yaml", {"release.artifact": f"file://{broken}"}
    )
    up = sl("up", "local")
    assert up.exit_code != 0, up.output
    assert "local-app-0: setup failed at step 'unpack the release'" in up.output, up.output
    assert "Traceback" not in up.output, up.output
    shown = sl("status", "local")
    assert shown.exit_code == 1, shown.output
    assert "local-app-0 failed at step 'unpack the release'" in shown.output, shown.output


def test_an_engine_version_the_image_lacks_is_refused_before_anything(
    sl: Run, guests_project: Path
) -> None:
    edit_stack_file(guests_project / "stacks/Pulumi.local.yaml", {"database.engineVersion": "16"})
    up = sl("up", "local")
    assert up.exit_code != 0, up.output
    assert "stageline:database.engineVersion = '16'" in up.output, up.output
    assert "provides PostgreSQL 15" in up.output, up.output
    assert "set database.engineVersion to one of 15" in up.output, up.output
    found = objects(LOCAL, "local-")
    assert not (found.domains or found.networks or found.pools or found.volumes), found


def test_the_guest_image_is_cached_by_its_recipe() -> None:
    # A second build from this clone is the cached one: it answers at once, same image.
    before = GUEST_IMAGE.resolve()
    done = subprocess.run(
        [str(Path(__file__).resolve().parents[2] / "scripts" / "make-guest-image"), "--print-path"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert Path(done.stdout.strip()).resolve() == before
    manifest = json.loads((before.parent / "manifest.json").read_text())
    assert manifest["postgresql"] == ["15"], manifest
    assert shutil.which("mmdebstrap"), "scripts/services installs mmdebstrap"
