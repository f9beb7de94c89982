"""Fixed addresses on a stage network, for what other stages and sites must reach.

DHCP gives app VMs any address; the database servers and the ingress proxy get fixed ones, so
a DR replica on another site can stream from the primary and failover routing can name the
ingress without asking either site. The network reserves its first addresses for them
(resources/network.py); each gets a static DHCP lease keyed by a MAC derived from its name.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import TypedDict

SLOTS = {"db-0": 1, "db-1": 2, "ingress": 3}
"""Host offsets after the gateway (the first host address)."""


class FixedHost(TypedDict):
    name: str
    mac: str
    ip: str


def mac_of(hostname: str) -> str:
    """A stable, locally administered MAC (QEMU's 52:54:00 prefix) from the VM's name."""
    digest = hashlib.sha256(hostname.encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])


def fixed_address(cidr: str, slot: str) -> str:
    hosts = ipaddress.ip_network(cidr).hosts()
    offset = SLOTS[slot]
    for i, address in enumerate(hosts):
        if i == offset:
            return str(address)
    raise ValueError(f"{cidr} has no host {offset}")


def fixed_host(stack: str, cidr: str, slot: str) -> FixedHost:
    name = f"{stack}-{slot}"
    return {"name": name, "mac": mac_of(name), "ip": fixed_address(cidr, slot)}


def fixed_hosts(stack: str, cidr: str) -> list[FixedHost]:
    """Every fixed lease of the stage's network."""
    return [fixed_host(stack, cidr, slot) for slot in SLOTS]
