"""What really exists on a libvirt host, read through libvirt-python (never Pulumi's outputs)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import libvirt
from click.testing import CliRunner, Result
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from components.libvirt.resources.connection import find, not_found
from stageline.cli.context import CliContext
from stageline.cli.main import cli
from stageline.workspace import Project
from tests.conftest import edit_stack_file

REPO = Path(__file__).resolve().parents[2]
HOSTS = REPO / ".stageline" / "test-hosts"
SERVICES = REPO / "scripts" / "services"
DC1 = "10.250.0.2"
"""The test KVM host `scripts/services` runs in network namespace stageline-dc1."""
DC2 = "10.250.0.6"
"""The second site's SSH host, in network namespace stageline-dc2 (the DR site)."""


def site_uri(address: str) -> str:
    key, known = HOSTS / "id_ed25519", HOSTS / "known_hosts"
    return f"qemu+ssh://root@{address}/system?keyfile={key}&known_hosts={known}"


def dc1_uri() -> str:
    return site_uri(DC1)


def dc2_uri() -> str:
    return site_uri(DC2)


def base_image() -> Path:
    return HOSTS / "images" / "base.qcow2"


def ssh(up: bool, site: str = "dc1") -> None:
    """Stop or start a site's sshd: the SSH host goes down or comes back."""
    command = "start-ssh" if up else "stop-ssh"
    subprocess.run([str(SERVICES), command, site], check=True, timeout=60)


def _pool_busy(exc: BaseException) -> bool:
    # libvirt refuses a refresh while a volume upload into the pool runs (stageline's own,
    # during an `up`); the job ends within seconds, after which the refresh is answered.
    return isinstance(exc, libvirt.libvirtError) and "asynchronous jobs" in str(exc)


@retry(
    retry=retry_if_exception(_pool_busy),
    wait=wait_exponential(multiplier=0.05, max=1),
    stop=stop_after_delay(60),
    reraise=True,
)
def refresh(pool: libvirt.virStoragePool) -> None:
    """Re-scan the pool's folder so the check sees files on disk, not only what libvirt
    remembers; waits (bounded) while the pool is busy with an upload."""
    pool.refresh(0)


@dataclass(frozen=True)
class HostObjects:
    domains: dict[str, bool]
    """Domain name -> running."""
    networks: dict[str, bool]
    pools: dict[str, bool]
    volumes: set[str]
    """`pool/volume` of every volume in the pools listed."""


def is_running(obj: Any) -> bool | None:
    """Whether a listed domain, network or pool is active; None when it is gone since: another
    process (a stage's `up` or destroy, a drill, the KVM probe's scratch domain) may remove an
    object between our listing and our next call on it."""
    active = find(obj.isActive)
    return None if active is None else bool(active)


def _named(listed: Any, prefix: str) -> dict[str, Any]:
    return {o.name(): o for o in listed if o.name().startswith(prefix)}


def objects(uri: str, prefix: str) -> HostObjects:
    """Every domain, network, pool and volume whose name starts with `prefix`, as it is now:
    an object removed while this reads is left out."""
    conn = libvirt.open(uri)
    try:
        domains = {k: is_running(d) for k, d in _named(conn.listAllDomains(), prefix).items()}
        networks = {k: is_running(n) for k, n in _named(conn.listAllNetworks(), prefix).items()}
        listed = _named(conn.listAllStoragePools(), prefix)
        pools = {k: is_running(p) for k, p in listed.items()}
        volumes: set[str] = set()
        for name, pool in listed.items():
            try:
                if pool.isActive():
                    refresh(pool)
                    volumes |= {f"{name}/{v.name()}" for v in pool.listAllVolumes()}
            except libvirt.libvirtError as exc:
                if not not_found(exc):
                    raise
        return HostObjects(
            domains={k: v for k, v in domains.items() if v is not None},
            networks={k: v for k, v in networks.items() if v is not None},
            pools={k: v for k, v in pools.items() if v is not None},
            volumes=volumes,
        )
    finally:
        conn.close()


def _remove_once(conn: libvirt.virConnect, prefix: str) -> None:
    # Domains first: a network or pool in use by a running domain cannot go.
    for listing in (conn.listAllDomains, conn.listAllNetworks):
        for obj in _named(listing(), prefix).values():
            try:
                if obj.isActive():
                    obj.destroy()
                obj.undefine()
            except libvirt.libvirtError as exc:
                if not not_found(exc):
                    raise
    for pool in _named(conn.listAllStoragePools(), prefix).values():
        try:
            try:
                if not pool.isActive():
                    pool.create()
                refresh(pool)
                for vol in pool.listAllVolumes():
                    vol.delete(0)
                pool.destroy()
                pool.delete(0)
            except libvirt.libvirtError as exc:
                if not_found(exc):
                    raise
                # its folder is already gone: forgetting the pool is all that is left
            pool.undefine()
        except libvirt.libvirtError as exc:
            if not not_found(exc):
                raise


@retry(
    retry=retry_if_exception(lambda exc: isinstance(exc, AssertionError)),
    wait=wait_exponential(multiplier=0.5, max=5),
    stop=stop_after_delay(120),
    reraise=True,
)
def remove_all(uri: str, prefix: str) -> None:
    """Clean a host of a test's objects, whatever state a failed test left them in. Passes
    are repeated (bounded) until nothing with `prefix` is left, so an object a dying process
    made during a pass is removed by the next."""
    conn = libvirt.open(uri)
    try:
        _remove_once(conn, prefix)
    finally:
        conn.close()
    left = objects(uri, prefix)
    assert not (left.domains or left.networks or left.pools), f"still on the host: {left}"


GUEST_IMAGE = REPO / ".stageline" / "images" / "debian-12" / "disk.qcow2"
"""The Debian 12 guest image scripts/services builds (scripts/make-guest-image)."""
VIRT_NS = "stageline-virt"
"""The network namespace libvirtd, its bridges and every guest address live in."""


def guest_ip(uri: str, network: str, hostname: str) -> str:
    """The address libvirt's DHCP server leased to a guest, read from libvirt."""
    conn = libvirt.open(uri)
    try:
        leases = conn.networkLookupByName(network).DHCPLeases()
    finally:
        conn.close()
    found = [lease["ipaddr"] for lease in leases if lease.get("hostname") == hostname]
    assert found, f"no DHCP lease for {hostname} on {network}: {leases}"
    return str(found[-1])


def healthz_in_namespace(ip: str, port: int) -> tuple[int, dict[str, object]]:
    """GET /healthz from inside the guests' namespace, the only place their network is."""
    probe = (
        "import json, sys, urllib.request, urllib.error\n"
        f"url = 'http://{ip}:{port}/healthz'\n"
        "try:\n"
        "    r = urllib.request.urlopen(url, timeout=10); code, body = r.status, r.read()\n"
        "except urllib.error.HTTPError as e:\n"
        "    code, body = e.code, e.read()\n"
        "print(json.dumps([code, json.loads(body)]))\n"
    )
    done = subprocess.run(
        ["ip", "netns", "exec", VIRT_NS, "python3", "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    code, body = json.loads(done.stdout)
    return int(code), body


def in_guest(uri: str, domain: str, command: str) -> str:
    """Run a shell command in a guest through the QEMU guest agent; its stdout. Fails on a
    non-zero exit."""
    from components.libvirt.resources.guest_agent import guest_exec

    conn = libvirt.open(uri)
    try:
        code, out, err = guest_exec(conn.lookupByName(domain), "/bin/sh", ["-c", command])
    finally:
        conn.close()
    assert code == 0, f"{domain}: `{command}` exited {code}: {err}"
    return out


def sql(uri: str, domain: str, query: str) -> str:
    """A query as PostgreSQL's superuser inside the database VM; unaligned output."""
    return in_guest(
        uri, domain, f"runuser -u postgres -- psql -XAtq -d app -c {shlex.quote(query)}"
    ).strip()


LOCAL_URI = "qemu:///system"
POOLS = Path("/var/lib/stageline-test/pools")
"""Where each test's stages put their pools (one folder per test)."""
STAGE_PREFIXES = ("local-", "onprem-")


OWNER = ".owner"
"""In each test's folder under POOLS: the pid of the test process whose stages use it."""


def _run_over(folder: Path) -> bool:
    """Whether the test run that made `folder` is over: its process is gone (killed), or it is
    this process, whose earlier test ended (a test's stages are never entered twice at once)."""
    try:
        pid = int((folder / OWNER).read_text())
    except (OSError, ValueError):
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def left_by_tests(uri: str, prefix: str) -> bool:
    """Whether the host's `prefix` objects are an earlier test run's, which ended before it
    could clean up: their pools or disks are in POOLS, where no user's stage keeps them, in a
    folder whose run is over (`_run_over`). Those are removed; anything else with the prefix is
    a user's own stage or a test run still going, and is left alone."""
    conn = libvirt.open(uri)
    try:
        paths = []
        for pool in _named(conn.listAllStoragePools(), prefix).values():
            xml = find(lambda pool=pool: pool.XMLDesc(0))
            paths += ET.fromstring(xml).findall("target/path") if xml else []
        for dom in _named(conn.listAllDomains(), prefix).values():
            xml = find(lambda dom=dom: dom.XMLDesc(0))
            paths += ET.fromstring(xml).findall("devices/disk/source") if xml else []
    finally:
        conn.close()
    found = [Path(e.text or e.get("file") or "/") for e in paths]
    folders = {POOLS / p.relative_to(POOLS).parts[0] for p in found if p.is_relative_to(POOLS)}
    return any(_run_over(folder) for folder in folders)


def clear_leftovers(uri: str, prefix: str) -> None:
    """Removes the `prefix` objects if they are an earlier test run's (`left_by_tests`)."""
    if left_by_tests(uri, prefix):
        remove_all(uri, prefix)


@contextmanager
def libvirt_stages(
    project: Path,
    pools: str,
    image: Path,
    onprem: Mapping[str, Any] | None = None,
    onprem_dr: Mapping[str, Any] | None = None,
) -> Iterator[Path]:
    """The project's `local`, `onprem` and `onprem-dr` stages on this machine's libvirt (onprem
    through dc1's SSH, onprem-dr through dc2's), booting `image`, with their pools in
    POOLS/`pools`; everything they made is removed afterwards, whatever the test reached."""
    for prefix in STAGE_PREFIXES:
        clear_leftovers(LOCAL_URI, prefix)
        found = objects(LOCAL_URI, prefix)
        if found.domains or found.networks or found.pools:
            raise AssertionError(
                f"libvirt already holds {prefix}* objects ({found}); destroy that stage "
                "before running these tests, which create and remove them"
            )
    pool_path = POOLS / pools
    pool_path.mkdir(parents=True, exist_ok=True)
    (pool_path / OWNER).write_text(str(os.getpid()))
    common = {"libvirt.baseImage": str(image), "libvirt.poolPath": str(pool_path)}
    edit_stack_file(project / "stacks/Pulumi.local.yaml", common)
    edit_stack_file(
        project / "stacks/Pulumi.onprem.yaml",
        {**common, "libvirt.uri": dc1_uri(), **(onprem or {})},
    )
    edit_stack_file(
        project / "stacks/Pulumi.onprem-dr.yaml",
        {**common, "libvirt.uri": dc2_uri(), **(onprem_dr or {})},
    )
    try:
        yield project
    finally:
        ssh(up=True)
        ssh(up=True, site="dc2")
        failures = []
        for prefix in STAGE_PREFIXES:
            try:
                remove_all(LOCAL_URI, prefix)
            except (AssertionError, libvirt.libvirtError) as exc:
                failures.append(exc)  # the other prefixes are still cleaned
        subprocess.run(["rm", "-rf", str(pool_path), "/var/log/stageline/local"], check=False)
        for logs in Path("/var/log/stageline").glob("onprem*"):
            subprocess.run(["rm", "-rf", str(logs)], check=False)
        if failures:
            raise failures[0]


def cli_on(project: Path) -> Callable[..., Result]:
    """The CLI on the real program (the libvirt environment, not the test builder)."""

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), obj=CliContext(Project(project)))

    return invoke


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result
