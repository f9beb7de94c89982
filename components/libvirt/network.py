"""A libvirt NAT network with the stage's CIDR: one private tier; a site has no public tier."""

from __future__ import annotations

import pulumi

from components.libvirt.args import LibvirtNetworkArgs, site_of
from components.libvirt.resources.network import LibvirtNetwork as NetworkResource
from components.network import Network


class LibvirtNetwork(Network):
    network: NetworkResource
    network_name: str

    def __init__(
        self, name: str, args: LibvirtNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:network:LibvirtNetwork", name, None, opts)
        site = site_of(args)
        self.network_name = f"{site.stack}-net"
        self.network = NetworkResource(
            f"{name}-net",
            site.uri,
            self.network_name,
            args.cidr,
            pulumi.ResourceOptions(parent=self),
        )
        # Domains attach to the network by name; that is the "subnet" of a site.
        self._publish(self.network.uuid, args.cidr, [], [self.network.id], (args.cidr,))
