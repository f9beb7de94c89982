"""Failover routing on sites: `app.<zone>` in the DNS of both sites' networks, answering the
preferred side's ingress address.

dnsmasq checks no health, so nothing moves the name on its own: `stageline dr failover` points
it at the replica (components/libvirt/ops.py) and records the role, and this component then
renders the same answer.
"""

from __future__ import annotations

import pulumi

from components.libvirt.resources.dns_host import DnsHost
from components.libvirt.site import LibvirtSite
from components.routing import Routing, RoutingArgs


class LibvirtRouting(Routing):
    records: list[DnsHost]

    def __init__(
        self,
        name: str,
        args: RoutingArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        site: LibvirtSite,
    ) -> None:
        super().__init__("stageline:routing:LibvirtRouting", name, None, opts)
        self.records = [
            DnsHost(
                f"{name}-{side.stage}",
                {
                    "uri": side.site or site.uri,
                    "network": side.network,
                    "hostname": args.fqdn,
                    "ip": args.preferred.address,
                },
                pulumi.ResourceOptions(parent=self),
            )
            for side in (args.preferred, args.fallback)
        ]
        self._publish(args.fqdn)
