"""A routed libvirt network carrying the stage's CIDR.

Routed, not NAT: a site's networks reach each other (a DR replica streams from its primary on
another site), and libvirt's NAT rules refuse connections into a NAT network. A site has no
uplink of its own, so routing exposes nothing beyond the host.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from xml.etree import ElementTree as ET

import libvirt
import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

from components.libvirt.resources.connection import connect, find, sub, to_xml

REPLACE_ON = ("uri", "name", "cidr", "hosts")


def network_xml(name: str, cidr: str, fixed: list[dict[str, str]] | None = None) -> str:
    """`fixed`: static leases, each {name, mac, ip}."""
    net = ipaddress.ip_network(cidr)
    hosts = list(net.hosts())
    gateway, first, last = hosts[0], hosts[min(9, len(hosts) - 1)], hosts[-1]
    root = ET.Element("network")
    sub(root, "name", name)
    sub(root, "forward", mode="route")
    ip = sub(root, "ip", address=str(gateway), netmask=str(net.netmask))
    dhcp = sub(ip, "dhcp")
    # The first addresses stay out of DHCP for fixed assignments (gateway, database).
    sub(dhcp, "range", start=str(first), end=str(last))
    for host in fixed or []:
        sub(dhcp, "host", mac=host["mac"], name=host["name"], ip=host["ip"])
    return to_xml(root)


def cidrs_of(conn: libvirt.virConnect, skip: str = "") -> dict[str, str]:
    """Every IPv4 range of the host's libvirt networks, by network name."""
    found: dict[str, str] = {}
    for net in conn.listAllNetworks():
        if net.name() == skip:
            continue
        # A network removed since the listing (another stage's destroy) holds no range.
        xml = find(net.XMLDesc)
        if xml is None:
            continue
        for ip in ET.fromstring(xml).findall("ip"):
            address, mask = ip.get("address"), ip.get("netmask") or ip.get("prefix")
            if address and mask and ":" not in address:
                found[net.name()] = str(ipaddress.ip_network(f"{address}/{mask}", strict=False))
    return found


class NetworkProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        with connect(props["uri"]) as conn:
            net = find(lambda: conn.networkLookupByName(props["name"]))
            if net is None:
                net = conn.networkDefineXML(
                    network_xml(props["name"], props["cidr"], props.get("hosts"))
                )
            if not net.isActive():
                net.create()
            net.setAutostart(1)
            return CreateResult(
                props["name"], {**props, "uuid": net.UUIDString(), "bridge": net.bridgeName()}
            )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with connect(props["uri"]) as conn:
            net = find(lambda: conn.networkLookupByName(id_))
            if net is None:
                return ReadResult(None, {})
            return ReadResult(id_, {**props, "uuid": net.UUIDString(), "bridge": net.bridgeName()})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACE_ON if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with connect(props["uri"]) as conn:
            net = find(lambda: conn.networkLookupByName(id_))
            if net is None:
                return
            if net.isActive():
                net.destroy()
            net.undefine()


class LibvirtNetwork(Resource, module="libvirt", name="Network"):
    uuid: pulumi.Output[str]
    bridge: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        uri: str,
        name: str,
        cidr: str,
        opts: pulumi.ResourceOptions | None = None,
        hosts: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(
            NetworkProvider(),
            resource_name,
            {
                "uri": uri,
                "name": name,
                "cidr": cidr,
                "hosts": hosts or [],
                "uuid": None,
                "bridge": None,
            },
            opts,
        )
