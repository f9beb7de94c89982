"""The host checks the libvirt tests rely on, against this machine's real libvirtd: an object
removed while it is read is absent (not an error), and only an earlier test run's leftovers
are cleaned away before a test, never a user's own stage."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from components.libvirt.resources.network import cidrs_of
from components.libvirt.resources.storage import pool_xml
from tests.integration.libvirt_checks import (
    LOCAL_URI,
    OWNER,
    POOLS,
    base_image,
    clear_leftovers,
    is_running,
    left_by_tests,
    libvirt_stages,
    objects,
)

pytestmark = pytest.mark.integration

NETWORK = """<network><name>{name}</name><ip address="10.98.7.1" netmask="255.255.255.0"/>
</network>"""


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    c = libvirt.open(LOCAL_URI)
    yield c
    c.close()


def _undefine_pools(conn: libvirt.virConnect, *names: str) -> None:
    for pool in conn.listAllStoragePools():
        if pool.name() in names:
            pool.undefine()


def test_an_object_removed_after_the_listing_is_absent_not_an_error(
    conn: libvirt.virConnect,
) -> None:
    listed = conn.networkDefineXML(NETWORK.format(name="onprem-zz-gone"))
    try:
        assert is_running(listed) is False
        listing = conn.listAllNetworks()
        assert cidrs_of(conn)["onprem-zz-gone"] == "10.98.7.0/24"
    finally:
        listed.undefine()
    assert is_running(listed) is None
    assert "onprem-zz-gone" not in objects(LOCAL_URI, "onprem-zz-").networks

    # A stage's preflight lists the host's networks while another stage's destroy removes
    # one: that network holds no range, and the others are still read.
    class Listed:
        def listAllNetworks(self) -> list[libvirt.virNetwork]:
            return listing

    assert "onprem-zz-gone" not in cidrs_of(Listed())  # type: ignore[arg-type]
    assert cidrs_of(Listed()) == cidrs_of(conn)  # type: ignore[arg-type]


def test_only_pools_under_the_test_folder_count_as_a_test_runs_leftovers(
    conn: libvirt.virConnect,
) -> None:
    try:
        conn.storagePoolDefineXML(pool_xml("onprem-zz-user", "/var/lib/stageline-user/vm"), 0)
        assert not left_by_tests(LOCAL_URI, "onprem-zz-")
        # A run still going (its process alive, and not this one) is left alone.
        running = POOLS / "running0"
        running.mkdir(parents=True, exist_ok=True)
        with subprocess.Popen(["sleep", "60"]) as other:
            (running / OWNER).write_text(str(other.pid))
            conn.storagePoolDefineXML(pool_xml("onprem-zz-live", str(running / "vm")), 0)
            assert not left_by_tests(LOCAL_URI, "onprem-zz-")
            other.kill()
        # ... until its process is gone.
        assert left_by_tests(LOCAL_URI, "onprem-zz-")
        _undefine_pools(conn, "onprem-zz-live")
        assert not left_by_tests(LOCAL_URI, "onprem-zz-")
        # A folder without an owner (a run killed before it wrote one), or this process's own
        # (its earlier test ended), is over.
        conn.storagePoolDefineXML(pool_xml("onprem-zz-test", str(POOLS / "killed0" / "vm")), 0)
        assert left_by_tests(LOCAL_URI, "onprem-zz-")
        _undefine_pools(conn, "onprem-zz-test")
        (running / OWNER).write_text(str(os.getpid()))
        conn.storagePoolDefineXML(pool_xml("onprem-zz-mine", str(running / "vm")), 0)
        assert left_by_tests(LOCAL_URI, "onprem-zz-")
    finally:
        names = [p.name() for p in conn.listAllStoragePools()]
        _undefine_pools(conn, *(n for n in names if n.startswith("onprem-zz-")))
        shutil.rmtree(POOLS / "running0", ignore_errors=True)


def test_a_killed_test_runs_leftovers_are_removed_before_the_next_test(
    conn: libvirt.virConnect, project_dir: Path, tmp_path: Path
) -> None:
    clear_leftovers(LOCAL_URI, "onprem-")  # this machine's own, if any: the test makes its own
    conn.storagePoolDefineXML(pool_xml("onprem-vm", str(POOLS / "killed0" / "onprem-vm")), 0)
    conn.networkDefineXML(NETWORK.format(name="onprem-net"))
    with libvirt_stages(project_dir, tmp_path.name, base_image()):
        left = objects(LOCAL_URI, "onprem-")
        assert not (left.pools or left.networks), left


def test_a_users_own_stage_is_refused_not_removed(
    conn: libvirt.virConnect, project_dir: Path, tmp_path: Path
) -> None:
    clear_leftovers(LOCAL_URI, "onprem-")
    conn.storagePoolDefineXML(pool_xml("onprem-vm", "/var/lib/stageline-user/onprem-vm"), 0)
    try:
        stages = libvirt_stages(project_dir, tmp_path.name, base_image())
        with pytest.raises(AssertionError, match="libvirt already holds onprem-"), stages:
            pass
        assert "onprem-vm" in objects(LOCAL_URI, "onprem-").pools
    finally:
        _undefine_pools(conn, "onprem-vm")
