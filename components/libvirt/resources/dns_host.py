"""A name in a libvirt network's DNS: a host entry the network's dnsmasq answers, changed live.

The record belongs to the stack that creates it, not to the network's stack: a DR stage adds its
failover record to its primary's network too. Create and update leave exactly one entry for the
name, whatever the network held before (`stageline dr failover` may have moved it already).
"""

from __future__ import annotations

import uuid
from typing import Any
from xml.etree import ElementTree as ET

import libvirt
import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from components.libvirt.resources.connection import connect, find, sub, to_xml

FLAGS = libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE | libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG


def _entry(ip: str, hostname: str) -> str:
    host = ET.Element("host", ip=ip)
    sub(host, "hostname", hostname)
    return to_xml(host)


def addresses_of(net: libvirt.virNetwork, hostname: str) -> list[str]:
    """The addresses the network's DNS gives `hostname`."""
    root = ET.fromstring(net.XMLDesc(0))
    return [
        h.get("ip", "")
        for h in root.findall("dns/host")
        if hostname in [n.text for n in h.findall("hostname")]
    ]


def lookup(conn: libvirt.virConnect, network: str) -> libvirt.virNetwork | None:
    """A network by name or by UUID (the contract's network id is the UUID)."""
    try:
        uuid.UUID(network)
    except ValueError:
        return find(lambda: conn.networkLookupByName(network))
    return find(lambda: conn.networkLookupByUUIDString(network))


def point(uri: str, network: str, hostname: str, ip: str) -> None:
    """Make `hostname` resolve to `ip` alone on the network."""
    with connect(uri) as conn:
        net = lookup(conn, network)
        if net is None:
            raise RuntimeError(f"no network {network} on {uri} for DNS name {hostname}")
        for old in addresses_of(net, hostname):
            if old != ip:
                net.update(
                    libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
                    libvirt.VIR_NETWORK_SECTION_DNS_HOST,
                    -1,
                    _entry(old, hostname),
                    FLAGS,
                )
        if ip not in addresses_of(net, hostname):
            net.update(
                libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                libvirt.VIR_NETWORK_SECTION_DNS_HOST,
                -1,
                _entry(ip, hostname),
                FLAGS,
            )


def remove(uri: str, network: str, hostname: str) -> None:
    with connect(uri) as conn:
        net = lookup(conn, network)
        if net is None:
            return
        for old in addresses_of(net, hostname):
            net.update(
                libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
                libvirt.VIR_NETWORK_SECTION_DNS_HOST,
                -1,
                _entry(old, hostname),
                FLAGS,
            )


class DnsHostProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        point(props["uri"], props["network"], props["hostname"], props["ip"])
        return CreateResult(f"{props['network']}/{props['hostname']}", props)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("uri", "network", "hostname") if olds.get(k) != news.get(k)]
        changed = bool(replaces) or olds.get("ip") != news.get("ip")
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        point(news["uri"], news["network"], news["hostname"], news["ip"])
        return UpdateResult(news)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        remove(props["uri"], props["network"], props["hostname"])


class DnsHost(Resource, module="libvirt", name="DnsHost"):
    def __init__(
        self,
        resource_name: str,
        props: dict[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(DnsHostProvider(), resource_name, props, opts)
