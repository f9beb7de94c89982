"""What runs inside a libvirt stage's VMs, asked through the QEMU guest agent.

The agent answers over the libvirt connection itself (local, or qemu+ssh to a site), so a
check needs no network path to the guests, which live on the site's private networks. Each VM
runs components/libvirt/guest_probe.py once per check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree as ET

import libvirt

from components.health import (
    SETUP_BOOTING,
    SETUP_DONE,
    DatabaseState,
    HealthUnavailable,
    MachineHealth,
    StageHealth,
)
from components.libvirt.resources import kvm_probe
from components.libvirt.resources.connection import (
    METADATA_NS,
    LibvirtUnreachable,
    connect,
    not_found,
)
from components.libvirt.resources.guest_agent import AgentUnavailable, guest_exec
from components.libvirt.settings import LibvirtSettings

PROBE = (Path(__file__).parent / "guest_probe.py").read_text()


def _owner(dom: libvirt.virDomain) -> tuple[str, str, str]:
    """(stack, role, domain type) from the domain's definition."""
    root = ET.fromstring(dom.XMLDesc(0))
    owner = root.find(f"metadata/{{{METADATA_NS}}}owner")
    if owner is None:
        return "", "", ""
    return owner.get("stack", ""), owner.get("role", ""), root.get("type", "")


def machine_health(dom: libvirt.virDomain, role: str, kind: str) -> MachineHealth:
    name = dom.name()
    if not dom.isActive():
        return MachineHealth(name, role, running=False, setup="", kind=kind, problem="stopped")
    try:
        code, out, err = guest_exec(dom, "/usr/bin/python3", ["-c", PROBE, role])
    except AgentUnavailable:
        return MachineHealth(name, role, running=True, setup=SETUP_BOOTING, kind=kind)
    if code != 0:
        return MachineHealth(
            name, role, running=True, setup=SETUP_BOOTING, kind=kind, problem=err.strip()
        )
    report = json.loads(out)
    db = report.get("database")
    problem = report.get("problem", "")
    status = report.get("appStatus")
    if role == "app" and report.get("setup") == SETUP_DONE and not problem and status != 200:
        answer = report.get("app") or {}
        why = (answer.get("database") or {}).get("error") or answer.get("status")
        problem = f"/healthz answered {status} ({why})"
    return MachineHealth(
        name,
        role,
        running=True,
        setup=report.get("setup", ""),
        step=report.get("step", ""),
        detail=report.get("detail", ""),
        kind=kind,
        app=report.get("app"),
        app_status=status,
        database=DatabaseState(
            role=db["role"],
            replication=db.get("replication", ""),
            lag_bytes=db.get("lagBytes"),
            lag_seconds=db.get("lagSeconds"),
        )
        if db
        else None,
        problem=problem,
    )


def stage_health(stack: str, settings: LibvirtSettings) -> StageHealth:
    """Every VM of the stack, found by the owner mark stageline puts on its domains."""

    def ask(dom: libvirt.virDomain) -> MachineHealth | None:
        try:
            owner, role, kind = _owner(dom)
            return machine_health(dom, role, kind) if owner == stack else None
        except libvirt.libvirtError as exc:
            # Gone between the listing and the question (a transient domain, a destroy).
            if not_found(exc):
                return None
            raise

    try:
        with connect(settings.uri) as conn:
            return _ask_all(conn, stack, settings, ask)
    except LibvirtUnreachable as exc:
        raise HealthUnavailable(str(exc)) from exc


def _ask_all(
    conn: libvirt.virConnect,
    stack: str,
    settings: LibvirtSettings,
    ask: Callable[[libvirt.virDomain], MachineHealth | None],
) -> StageHealth:
    domains = sorted(conn.listAllDomains(), key=lambda d: d.name())
    # Each guest runs its probe in its own time: ask them all at once.
    with ThreadPoolExecutor(max_workers=8) as pool:
        machines = [m for m in pool.map(ask, domains) if m is not None]
    notes = []
    emulated = [d for d in domains if d.name() in {m.name for m in machines if m.kind == "qemu"}]
    if settings.domain_type == "auto" and emulated:
        notes.append(_fallback_note(conn, emulated[0]))
    return StageHealth(machines, notes)


def _fallback_note(conn: libvirt.virConnect, dom: libvirt.virDomain) -> str:
    """Why `domainType: auto` runs the VMs under emulation: the KVM probe's answer."""
    kernel = ET.fromstring(dom.XMLDesc(0)).findtext("os/kernel")
    why = "the host offers no KVM"
    if kernel:
        entry = kvm_probe.read_cache(kvm_probe.cache_path()).get(kvm_probe.cache_key(conn, kernel))
        if isinstance(entry, dict) and entry.get("domainType") == "qemu":
            why = str(entry.get("reason"))
    return f"domainType auto runs the VMs under QEMU software emulation (much slower): {why}"
