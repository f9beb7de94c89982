"""Failover routing: one name, `app.<zone>`, that answers with the active side's ingress.

A DR stage owns it. `preferred` is the side that serves while healthy, `fallback` the other;
the environment passes the primary first while the replica stands by, and the replica first
once `stageline dr failover` has recorded it active, so the IaC never routes back on its own.
A target with health-checked DNS (Route 53, Traffic Manager, Cloud DNS) also falls over to
`fallback` when `preferred` stops answering its health check.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

RECORD = "app"
"""The record's name inside the zone."""


@dataclass(frozen=True)
class RoutedSide:
    stage: str
    address: pulumi.Input[str]
    """The side's ingress host name or IP address."""
    region: str
    """Its region (or site)."""
    site: str = ""
    """Where the side is managed from (libvirt: the site's URI; clouds: the region)."""
    network: pulumi.Input[str] = ""
    """The side's network id (libvirt: the network name the record is added to)."""


@dataclass(frozen=True)
class RoutingArgs:
    zone: str
    """DNS zone of the record, e.g. `example.internal`. Required."""
    preferred: RoutedSide
    """The side that serves while healthy. Required."""
    fallback: RoutedSide
    """The side that serves when `preferred` fails its health check. Required."""
    health_path: str = "/healthz"
    """Path the health checks ask. Default `/healthz`."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""

    @property
    def fqdn(self) -> str:
        return f"{RECORD}.{self.zone}"


class Routing(pulumi.ComponentResource, ABC):
    fqdn: pulumi.Output[str]

    def _publish(self, fqdn: pulumi.Input[str]) -> None:
        self.fqdn = pulumi.Output.from_input(fqdn)
        self.register_outputs({"fqdn": self.fqdn})
