"""Live checks of a libvirt site, run before any resource is registered.

They catch what only the host can tell: an unreachable URI, a missing base image, a pool path
that does not exist, volumes that do not fit in the free space under it, a CIDR another
libvirt network already uses.
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
import shlex
from pathlib import Path
from xml.etree import ElementTree as ET

import libvirt

from components.errors import ConfigIssue
from components.libvirt.capacity import VolumeNeed, check_fits, planned_volumes, statfs_available
from components.libvirt.image import ManifestError, read_manifest
from components.libvirt.resources.connection import LibvirtUnreachable, connect, find
from components.libvirt.resources.host_command import HostCommandError, run_on_host
from components.libvirt.resources.network import cidrs_of
from components.libvirt.resources.storage import pool_xml
from components.libvirt.settings import LibvirtSettings
from components.spec import EnvironmentSpec


def _available(pool: libvirt.virStoragePool) -> int:
    # A directory pool reports the free space of the filesystem holding its folder (statvfs
    # on the host, so the same over qemu+ssh). A refresh updates it; a pool busy with an
    # upload refuses one, and its last figure is then the best there is.
    with contextlib.suppress(libvirt.libvirtError):
        pool.refresh(0)
    return int(pool.info()[3])


def _free_under(conn: libvirt.virConnect, path: str) -> tuple[bool, int | None]:
    """Whether the folder `path` exists on the host, and the free bytes of its filesystem.

    Asked of libvirt, through a pool on the path: an existing one, else a transient probe.
    The space is unknown (None) only under another, stopped pool, which cannot be asked.
    """
    for pool in conn.listAllStoragePools():
        target = ET.fromstring(pool.XMLDesc()).findtext("target/path")
        if target and Path(target) == Path(path):
            return True, _available(pool) if pool.isActive() else None
    try:
        # A transient pool on the path starts only if the folder exists on the host; it
        # vanishes when destroyed.
        probe = conn.storagePoolCreateXML(
            pool_xml(f"stageline-probe-{secrets.token_hex(4)}", path), 0
        )
    except libvirt.libvirtError:
        return False, None
    try:
        return True, int(probe.info()[3])
    finally:
        probe.destroy()


def _free_for_guests(uri: str, path: str, libvirt_figure: int | None) -> int | None:
    """Free bytes under `path` that the VMs' disk files can use, asked of the host itself
    (locally, or over SSH with the URI's key and known_hosts, as every host step is).

    libvirt reports the filesystem's free blocks including those reserved for root, which
    QEMU, running unprivileged, cannot write; the host's own statfs gives the honest figure.
    A host without GNU stat keeps libvirt's figure (None: the space cannot be told)."""
    try:
        return statfs_available(run_on_host(uri, f"stat -f -c '%a %S' -- {shlex.quote(path)}"))
    except (HostCommandError, ValueError):
        return libvirt_figure


def _allocated(conn: libvirt.virConnect, needs: list[VolumeNeed]) -> dict[tuple[str, str], int]:
    """Bytes already held by the volumes a previous run of the stage made."""
    held: dict[tuple[str, str], int] = {}
    for pool_name in {n.pool for n in needs}:
        pool = find(lambda name=pool_name: conn.storagePoolLookupByName(name))
        if pool is None or not pool.isActive():
            continue
        for vol in pool.listAllVolumes():
            held[(pool_name, vol.name())] = int(vol.info()[2])
    return held


def image_issues(spec: EnvironmentSpec, s: LibvirtSettings) -> list[ConfigIssue]:
    """What the image's manifest says it provides, against what the stage asks of it."""
    try:
        manifest = read_manifest(s.base_image)
    except ManifestError as exc:
        return [
            ConfigIssue(
                "libvirt.baseImage",
                s.base_image,
                f"has a manifest stageline cannot read ({exc})",
                "rebuild the image with scripts/make-guest-image, or remove the broken manifest",
            )
        ]
    # An image without a manifest declares nothing: its PostgreSQL cannot be checked here.
    if manifest is None or spec.database.engine_version in manifest.postgresql:
        return []
    has = ", ".join(manifest.postgresql) or "none"
    return [
        ConfigIssue(
            "database.engineVersion",
            spec.database.engine_version,
            f"is not in the site's image, which provides PostgreSQL {has} ({manifest.path})",
            f"set database.engineVersion to one of {has}, or build an image that has it"
            if manifest.postgresql
            else "build an image with PostgreSQL (scripts/make-guest-image)",
        )
    ]


def run(stack: str, spec: EnvironmentSpec, s: LibvirtSettings) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    if Path(s.base_image).is_file():
        issues += image_issues(spec, s)
    else:
        issues.append(
            ConfigIssue(
                "libvirt.baseImage",
                s.base_image,
                "no such file on this machine",
                "point it at an existing qcow2 image (it is uploaded to the site)",
            )
        )
    try:
        with connect(s.uri) as conn:
            exists, free = _free_under(conn, s.pool_path)
            if not exists:
                issues.append(
                    ConfigIssue(
                        "libvirt.poolPath",
                        s.pool_path,
                        "does not exist on the KVM host",
                        f"create it on the host (mkdir -p {s.pool_path}) or use an existing one",
                    )
                )
            elif (free := _free_for_guests(s.uri, s.pool_path, free)) is not None:
                image = Path(s.base_image)
                needs = planned_volumes(
                    stack,
                    spec,
                    s.storage_gb,
                    s.base_image,
                    image.stat().st_size if image.is_file() else 0,
                )
                issues += check_fits(needs, free, s.pool_path, _allocated(conn, needs))
            stage_net = ipaddress.ip_network(spec.network.cidr)
            for other, cidr in sorted(cidrs_of(conn, skip=f"{stack}-net").items()):
                if stage_net.overlaps(ipaddress.ip_network(cidr)):
                    issues.append(
                        ConfigIssue(
                            "network.cidr",
                            spec.network.cidr,
                            f"clashes with libvirt network {other!r} ({cidr}) on the host",
                            f"choose a range that does not overlap {cidr}",
                        )
                    )
    except LibvirtUnreachable as exc:
        issues.append(
            ConfigIssue(
                "libvirt.uri",
                s.uri,
                f"cannot be reached ({exc.__cause__})",
                "check that the host is up, that libvirtd runs on it, and for qemu+ssh that "
                "`ssh` with the URI's keyfile and known_hosts logs in",
            )
        )
    return issues


def source_issues(primary: str, site: str) -> list[ConfigIssue]:
    """A standby replica clones its primary and holds a slot there: the primary's site must
    answer before the replica's resources are registered."""
    try:
        with connect(site):
            return []
    except LibvirtUnreachable as exc:
        return [
            ConfigIssue(
                "promotesFrom",
                primary,
                f"the primary's site {site} cannot be reached ({exc.__cause__}), and a standby "
                "replica is built from it",
                f"bring {primary}'s KVM host back, or fail over: `stageline dr failover`",
            )
        ]
