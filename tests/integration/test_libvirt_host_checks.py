"""The host checks the libvirt tests rely on, against this machine's real libvirtd: an object
removed while it is read is absent (not an error), and only an earlier test run's leftovers
are cleaned away before a test, never a user's own stage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from components.libvirt.resources.storage import pool_xml
from tests.integration.libvirt_checks import (
    LOCAL_URI,
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
    conn.networkDefineXML(NETWORK.format(name="onprem-zz-gone"))
    (listed,) = [n for n in conn.listAllNetworks() if n.name() == "onprem-zz-gone"]
    assert is_running(listed) is False
    listed.undefine()
    assert is_running(listed) is None
    assert "onprem-zz-gone" not in objects(LOCAL_URI, "onprem-zz-").networks


def test_only_pools_under_the_test_folder_count_as_a_test_runs_leftovers(
    conn: libvirt.virConnect,
) -> None:
    try:
        conn.storagePoolDefineXML(pool_xml("onprem-zz-user", "/var/lib/stageline-user/vm"), 0)
        assert not left_by_tests(LOCAL_URI, "onprem-zz-")
        conn.storagePoolDefineXML(pool_xml("onprem-zz-test", str(POOLS / "killed0" / "vm")), 0)
        assert left_by_tests(LOCAL_URI, "onprem-zz-")
    finally:
        _undefine_pools(conn, "onprem-zz-user", "onprem-zz-test")


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
