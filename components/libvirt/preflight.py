"""Live checks of a libvirt site, run before any resource is registered.

They catch what only the host can tell: an unreachable URI, a missing base image, a pool path
that does not exist, a CIDR another libvirt network already uses.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import libvirt

from components.errors import ConfigIssue
from components.libvirt.resources.connection import LibvirtUnreachable, connect
from components.libvirt.resources.network import cidrs_of
from components.libvirt.resources.storage import pool_xml
from components.libvirt.settings import parse_settings
from components.spec import EnvironmentSpec


def _pool_path_exists(conn: libvirt.virConnect, path: str) -> bool:
    for pool in conn.listAllStoragePools():
        target = ET.fromstring(pool.XMLDesc()).findtext("target/path")
        if target and Path(target) == Path(path):
            return True
    try:
        # A transient pool on the path starts only if the folder exists on the host; it
        # vanishes when destroyed.
        probe = conn.storagePoolCreateXML(
            pool_xml(f"stageline-probe-{secrets.token_hex(4)}", path), 0
        )
    except libvirt.libvirtError:
        return False
    probe.destroy()
    return True


def run(stack: str, spec: EnvironmentSpec, raw: Mapping[str, Any]) -> list[ConfigIssue]:
    s, issues = parse_settings(raw)
    if s is None:
        return issues
    if not Path(s.base_image).is_file():
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
            if not _pool_path_exists(conn, s.pool_path):
                issues.append(
                    ConfigIssue(
                        "libvirt.poolPath",
                        s.pool_path,
                        "does not exist on the KVM host",
                        f"create it on the host (mkdir -p {s.pool_path}) or use an existing one",
                    )
                )
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
