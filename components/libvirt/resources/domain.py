"""KVM domains: defined from XML, started, autostarted; adopted when a killed run left them."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import libvirt
import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

from components.libvirt.resources import kvm_probe
from components.libvirt.resources.connection import (
    METADATA_NS,
    connect,
    find,
    owner_mark,
    sub,
    to_xml,
)

REPLACE_ON = (
    "uri",
    "name",
    "vcpus",
    "memoryMib",
    "disks",
    "cdrom",
    "network",
    "mac",
    "domainType",
    "consoleLog",
    "role",
    "kernel",
    "initrd",
    "cmdline",
    # The image's and the seed's digest (components/libvirt/vm.py): a new one is a new VM.
    "revision",
)
GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0"
TB_CACHE_MIB = 128


def domain_xml(props: dict[str, Any], domain_type: str) -> str:
    root = ET.Element("domain", type=domain_type)
    sub(root, "name", props["name"])
    owner_mark(root, props["stack"], props.get("role") or "")
    # Numbers cross the engine's wire as doubles.
    sub(root, "memory", str(int(props["memoryMib"])), unit="MiB")
    sub(root, "vcpu", str(int(props["vcpus"])))
    os_ = sub(root, "os")
    sub(os_, "type", "hvm", arch="x86_64", machine="pc")
    if props.get("kernel"):
        # Direct kernel boot: the image has no boot loader; the kernel and initrd are volumes.
        sub(os_, "kernel", props["kernel"])
        sub(os_, "initrd", props["initrd"])
        sub(os_, "cmdline", props["cmdline"])
    else:
        sub(os_, "boot", dev="hd")
    if domain_type == "qemu":
        # QEMU gives emulation a 1 GiB translation cache by default, which a guest fills over
        # its life: more than the guest's own memory. A small guest's code fits in far less.
        tcg = sub(sub(root, "features"), "tcg")
        sub(tcg, "tb-cache", str(TB_CACHE_MIB), unit="MiB")
    devices = sub(root, "devices")
    for i, path in enumerate(props["disks"]):
        disk = sub(devices, "disk", type="file", device="disk")
        sub(disk, "driver", name="qemu", type="qcow2")
        sub(disk, "source", file=path)
        sub(disk, "target", dev=f"vd{chr(ord('a') + i)}", bus="virtio")
    if props.get("cdrom"):
        cd = sub(devices, "disk", type="file", device="cdrom")
        sub(cd, "driver", name="qemu", type="raw")
        sub(cd, "source", file=props["cdrom"])
        # IDE, which the `pc` machine always has: the cloud kernel has no SATA (ahci) driver.
        sub(cd, "target", dev="hdc", bus="ide")
        sub(cd, "readonly")
    iface = sub(devices, "interface", type="network")
    sub(iface, "source", network=props["network"])
    if props.get("mac"):
        # A fixed lease on the network is keyed by this address (components/libvirt/addressing).
        sub(iface, "mac", address=props["mac"])
    sub(iface, "model", type="virtio")
    serial = sub(devices, "serial", type="pty")
    if props.get("consoleLog"):
        # virtlogd writes the guest console here: the host-side log the observability concern keeps.
        sub(serial, "log", file=props["consoleLog"], append="on")
    sub(serial, "target", port="0")
    sub(devices, "console", type="pty")
    # The QEMU guest agent: how status and health checks reach inside a guest without a
    # network path to it (guest-exec through libvirt, over the same connection as the rest).
    channel = sub(devices, "channel", type="unix")
    sub(channel, "target", type="virtio", name=GUEST_AGENT_CHANNEL)
    return to_xml(root)


def _owned_by(dom: libvirt.virDomain, stack: str) -> bool:
    root = ET.fromstring(dom.XMLDesc(0))
    owner = root.find(f"metadata/{{{METADATA_NS}}}owner")
    return owner is not None and owner.get("stack") == stack


class DomainProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        with connect(props["uri"]) as conn:
            existing = find(lambda: conn.lookupByName(props["name"]))
            if existing is not None:
                if not _owned_by(existing, props["stack"]):
                    raise RuntimeError(
                        f"a domain named {props['name']} exists on {props['uri']} and is not "
                        f"stageline's for stack {props['stack']}; rename or remove it"
                    )
                # Left by an interrupted run: replace it with the definition asked for.
                if existing.isActive():
                    existing.destroy()
                existing.undefine()
            # `auto` asks the host whether KVM really runs this kernel (cached per host).
            resolved = kvm_probe.resolve(conn, props["domainType"], props.get("kernel"))
            domain_type = resolved.domain_type
            dom = conn.defineXML(domain_xml(props, domain_type))
            dom.setAutostart(1)
            dom.create()
            return CreateResult(
                props["name"],
                {
                    **props,
                    "uuid": dom.UUIDString(),
                    "resolvedType": domain_type,
                    "resolvedWhy": resolved.reason,
                },
            )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with connect(props["uri"]) as conn:
            dom = find(lambda: conn.lookupByName(id_))
            if dom is None:
                return ReadResult(None, {})
            return ReadResult(
                id_, {**props, "uuid": dom.UUIDString(), "running": bool(dom.isActive())}
            )

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACE_ON if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with connect(props["uri"]) as conn:
            dom = find(lambda: conn.lookupByName(id_))
            if dom is None:
                return
            if dom.isActive():
                dom.destroy()
            dom.undefine()


class LibvirtDomain(Resource, module="libvirt", name="Domain"):
    uuid: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        props: dict[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            DomainProvider(),
            resource_name,
            {**props, "uuid": None, "resolvedType": None, "resolvedWhy": None},
            opts,
        )
