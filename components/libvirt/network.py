"""A routed libvirt network with the stage's CIDR: one private tier; a site has no public tier.
Its database servers and ingress proxy get fixed leases (components/libvirt/addressing.py)."""

from __future__ import annotations

import pulumi

from components.libvirt.addressing import fixed_hosts
from components.libvirt.resources.network import LibvirtNetwork as NetworkResource
from components.libvirt.site import LibvirtSite
from components.network import Network, NetworkArgs


class LibvirtNetwork(Network):
    network: NetworkResource
    network_name: str

    def __init__(
        self,
        name: str,
        args: NetworkArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        site: LibvirtSite,
    ) -> None:
        super().__init__("stageline:network:LibvirtNetwork", name, None, opts)
        self.network_name = f"{site.stack}-net"
        self.network = NetworkResource(
            f"{name}-net",
            site.uri,
            self.network_name,
            args.spec.cidr,
            pulumi.ResourceOptions(parent=self),
            hosts=[dict(h) for h in fixed_hosts(site.stack, args.spec.cidr)],
        )
        # Domains attach to the network by name; that is the "subnet" of a site.
        self._publish(self.network.uuid, args.spec.cidr, [], [self.network.id], (args.spec.cidr,))
