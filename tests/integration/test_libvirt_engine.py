"""The on-prem target for real: libvirtd with QEMU (TCG), and a KVM host behind SSH.

`scripts/services` (run by .ci/run) starts libvirtd and the test host dc1, a network
namespace with its own sshd; these tests deploy with the real program and check what exists
through libvirt itself.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt
import pytest
from click.testing import Result

from components.compute import APP_ENV_DATABASE_PASSWORD
from components.contract import CONTRACT_KEYS
from stageline.backend import resolve_backend
from stageline.engine import InstallReport, engine_env
from tests.conftest import edit_stack_file
from tests.integration.libvirt_checks import (
    LOCAL_URI,
    POOLS,
    base_image,
    cli_on,
    dc1_uri,
    libvirt_stages,
    objects,
    ok,
    ssh,
)

pytestmark = pytest.mark.integration

LOCAL = LOCAL_URI

Run = Callable[..., Result]


@pytest.fixture
def lv_project(project_dir: Path, tmp_path: Path) -> Iterator[Path]:
    with libvirt_stages(project_dir, tmp_path.name, base_image()) as project:
        yield project


@pytest.fixture
def lv(lv_project: Path) -> Run:
    return cli_on(lv_project)


def only_same(result: Result, stage: str) -> None:
    ok(result)
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"{stage}: ") and "same" in last, last
    for op in ("create", "update", "replace", "delete"):
        assert op not in last, last


EXPECTED_LOCAL = {
    "domains": {"local-app-0": True, "local-db-0": True, "local-ingress": True},
    "networks": {"local-net": True},
    "pools": {"local-vm": True, "local-data": True},
    "volumes": {
        "local-vm/local-base.qcow2",
        "local-vm/local-app-0-root.qcow2",
        "local-vm/local-app-0-cidata.iso",
        "local-vm/local-db-0-root.qcow2",
        "local-vm/local-db-0-cidata.iso",
        "local-vm/local-db-0-data.qcow2",
        "local-vm/local-ingress-root.qcow2",
        "local-vm/local-ingress-cidata.iso",
        "local-data/objects.qcow2",
    },
}


def assert_local_is_complete() -> None:
    found = objects(LOCAL, "local-")
    assert found.domains == EXPECTED_LOCAL["domains"], found
    assert found.networks == EXPECTED_LOCAL["networks"], found
    assert found.pools == EXPECTED_LOCAL["pools"], found
    assert found.volumes == EXPECTED_LOCAL["volumes"], found


def assert_nothing_left(uri: str, prefix: str) -> None:
    found = objects(uri, prefix)
    assert not (found.domains or found.networks or found.pools or found.volumes), found


def assert_password_only_encrypted_in_state(project: Path, engine: InstallReport) -> None:
    """The app VMs' seeds carry the database password; the state file holds it only encrypted."""
    (state_file,) = (project.parent / "state").glob(".pulumi/stacks/**/local.json")
    raw = state_file.read_text()
    env = {**os.environ, **engine_env(), **resolve_backend(project).env()}
    export = subprocess.run(
        [str(engine.pulumi), "stack", "export", "--show-secrets", "--stack", "local"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    # Generated passwords are URL-safe base64; every seed carries the same one.
    found = set(re.findall(rf"{APP_ENV_DATABASE_PASSWORD}=([A-Za-z0-9_-]+)", export))
    assert len(found) == 1, f"decrypted state has {len(found)} app passwords"
    (password,) = found
    assert password not in raw, f"{state_file}: the database password is stored in plain text"
    assert APP_ENV_DATABASE_PASSWORD not in raw, f"{state_file}: an app seed is stored in plain"


def test_up_local_runs_converges_and_destroys(
    lv: Run, lv_project: Path, engine: InstallReport
) -> None:
    ok(lv("up", "local", "--no-wait"))
    assert_local_is_complete()
    assert_password_only_encrypted_in_state(lv_project, engine)
    contract = json.loads(ok(lv("outputs", "local")).output)
    assert set(contract) == set(CONTRACT_KEYS)
    assert contract["target"] == "libvirt" and contract["network"]["cidr"] == "192.168.150.0/24"
    # The database's fixed lease: the network's second address.
    assert contract["database"]["endpoint"] == "192.168.150.2"
    assert contract["ingress"]["address"] == "192.168.150.4"
    # The guests really boot: the base image's boot sector writes to the console log that the
    # observability concern keeps on the host.
    log = Path("/var/log/stageline/local/local-app-0.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and b"booted" not in (
        log.read_bytes() if log.exists() else b""
    ):
        time.sleep(0.5)
    assert b"stageline-base-image: booted" in log.read_bytes()
    only_same(lv("up", "local", "--no-wait"), "local")
    ok(lv("destroy", "local", "--yes"))
    assert_nothing_left(LOCAL, "local-")
    assert not Path("/var/log/stageline/local").exists()


def test_onprem_over_ssh_is_promoted_from_local(lv: Run, lv_project: Path) -> None:
    edit_stack_file(lv_project / "stacks/Pulumi.local.yaml", {"release.appVersion": "2.0.0"})
    ok(lv("up", "local", "--no-wait"))
    up = ok(lv("up", "onprem", "--no-wait"))
    assert "release 2.0.0" in up.output
    found = objects(dc1_uri(), "onprem-")
    assert found.domains == {
        "onprem-app-0": True,
        "onprem-app-1": True,
        "onprem-db-0": True,
        "onprem-db-1": True,
        "onprem-ingress": True,
    }, found
    refused = lv("destroy", "onprem", "--yes")
    assert refused.exit_code == 1 and "--force-protected" in refused.output
    ok(lv("destroy", "onprem", "--yes", "--force-protected"))
    after = objects(dc1_uri(), "onprem-")
    assert not after.domains and not after.networks
    # The database volumes were retained (protected data): still on the host's disk.
    retained = sorted(p.name for p in POOLS.glob("*/onprem-vm/*-data.qcow2"))
    assert retained == ["onprem-db-0-data.qcow2", "onprem-db-1-data.qcow2"], retained


def test_ssh_host_down_fails_clearly_and_state_survives(lv: Run) -> None:
    ok(lv("up", "local", "--no-wait"))
    ok(lv("up", "onprem", "--no-wait"))
    before = ok(lv("outputs", "onprem")).output
    ssh(up=False)
    try:
        down = lv("up", "onprem", "--no-wait")
        assert down.exit_code == 1
        assert "stageline:libvirt.uri" in down.output and "cannot be reached" in down.output
        assert "fix:" in down.output
        assert ok(lv("outputs", "onprem")).output == before
    finally:
        ssh(up=True)
    only_same(lv("up", "onprem", "--no-wait"), "onprem")


def test_kill_9_mid_up_then_recover_leaves_no_orphans(lv_project: Path, lv: Run) -> None:
    env = {**os.environ, "STAGELINE_PROJECT_DIR": str(lv_project)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stageline.cli.main", "up", "local", "--no-wait"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        found = objects(LOCAL, "local-")
        if found.volumes and not found.domains:
            break  # mid-flight: volumes made, domains not yet
        time.sleep(0.02)
    assert proc.poll() is None, "the up finished before it could be killed mid-flight"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    ok(lv("recover", "local", "--no-wait"))
    assert_local_is_complete()
    only_same(lv("up", "local", "--no-wait"), "local")
    ok(lv("destroy", "local", "--yes"))
    assert_nothing_left(LOCAL, "local-")


# (case, edits of the local stack, key, fragment)
BAD_INPUT = [
    (
        "unreachable uri",
        {"libvirt.uri": "qemu+ssh://root@10.250.0.2:2222/system?known_hosts=/dev/null"},
        "stageline:libvirt.uri",
        "cannot be reached",
    ),
    (
        "missing base image",
        {"libvirt.baseImage": "/var/lib/stageline-test/no-such-image.qcow2"},
        "stageline:libvirt.baseImage",
        "no such file",
    ),
    (
        "pool path that does not exist",
        {"libvirt.poolPath": "/var/lib/stageline-test/no-such-folder"},
        "stageline:libvirt.poolPath",
        "does not exist",
    ),
    (
        # 100 PiB: no test machine's disk holds it.
        "database larger than the host's free space",
        {"database.storageGb": 100 * 1024 * 1024},
        "stageline:database.storageGb = 104857600",
        "GiB is free",
    ),
]


@pytest.mark.parametrize(
    ("edits", "key", "fragment"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_touches_nothing(
    lv: Run, lv_project: Path, edits: dict, key: str, fragment: str
) -> None:
    edit_stack_file(lv_project / "stacks/Pulumi.local.yaml", edits)
    result = lv("up", "local", "--no-wait")
    assert result.exit_code == 1, result.output
    assert key in result.output and fragment in result.output and "fix:" in result.output
    assert_nothing_left(LOCAL, "local-")


def test_object_store_larger_than_the_remote_host_touches_nothing(
    lv: Run, lv_project: Path
) -> None:
    edit_stack_file(lv_project / "stacks/Pulumi.onprem.yaml", {"libvirt.storageGb": 104857600})
    result = lv("up", "onprem", "--no-wait")
    assert result.exit_code == 1, result.output
    assert "stageline:libvirt.storageGb = 104857600" in result.output, result.output
    assert "GiB is free" in result.output and "fix: lower libvirt.storageGb" in result.output
    assert "stageline:database.storageGb" not in result.output, result.output
    assert_nothing_left(dc1_uri(), "onprem-")


def test_cidr_clashing_with_a_libvirt_network_touches_nothing(lv: Run) -> None:
    conn = libvirt.open(LOCAL)
    clash = conn.networkDefineXML(
        "<network><name>local-clash</name><ip address='192.168.150.1' netmask='255.255.255.0'/>"
        "</network>"
    )
    try:
        result = lv("up", "local", "--no-wait")
        assert result.exit_code == 1, result.output
        assert "stageline:network.cidr = '192.168.150.0/24'" in result.output
        assert "clashes with libvirt network 'local-clash'" in result.output
        found = objects(LOCAL, "local-")
        assert set(found.networks) == {"local-clash"} and not found.domains and not found.pools
    finally:
        clash.undefine()
        conn.close()
