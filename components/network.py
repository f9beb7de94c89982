"""Network concern: common args, the abstract base, and the pure subnet plan every target uses."""

from __future__ import annotations

import ipaddress
import math
from abc import ABC
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.spec import NetworkSpec


@dataclass(frozen=True)
class SubnetPlan:
    public: tuple[str, ...]
    private: tuple[str, ...]


def plan_subnets(cidr: str, zone_count: int) -> SubnetPlan:
    """Split the stage network into one public and one private subnet per zone.

    The split is deterministic so that re-running never moves a subnet, and every target
    carves the same ranges: a stage keeps its addresses when it changes target.
    """
    net = ipaddress.ip_network(cidr)
    extra_bits = max(1, math.ceil(math.log2(2 * zone_count)))
    subnets = [str(s) for s in net.subnets(prefixlen_diff=extra_bits)]
    return SubnetPlan(
        public=tuple(subnets[:zone_count]),
        private=tuple(subnets[zone_count : 2 * zone_count]),
    )


@dataclass(frozen=True)
class NetworkArgs:
    spec: NetworkSpec
    """The validated `network` section: the stage CIDR and the NAT mode. Required."""
    zones: tuple[str, ...]
    """The first `spec.zone_count` zones of the region, from its catalogue. Required."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""


class Network(pulumi.ComponentResource, ABC):
    """A network with a public and a private tier across zones."""

    network_id: pulumi.Output[str]
    cidr: str
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_cidrs: tuple[str, ...]
    egress: tuple[pulumi.Resource, ...] = ()
    """What must exist before a private instance can reach out (NAT gateways and their routes,
    Cloud NAT): compute waits for it, so first boot does not race the egress path."""

    def _publish(
        self,
        network_id: pulumi.Input[str],
        cidr: str,
        public_subnet_ids: Sequence[pulumi.Input[str]],
        private_subnet_ids: Sequence[pulumi.Input[str]],
        private_subnet_cidrs: Sequence[str],
        egress: Sequence[pulumi.Resource] = (),
        ready: Sequence[pulumi.CustomResource] = (),
    ) -> None:
        """Set the outputs every target's network has, and register them under the same keys.

        Called last by each target: the other concerns read these attributes. The network ID
        resolves only once every resource in `ready` exists, so that what is placed in the
        network by its ID (a database, instances) waits for a finished network.
        """
        self.network_id = pulumi.Output.all(network_id, *[r.id for r in ready]).apply(
            lambda ids: ids[0]
        )
        self.cidr = cidr
        self.public_subnet_ids = pulumi.Output.all(*public_subnet_ids)
        self.private_subnet_ids = pulumi.Output.all(*private_subnet_ids)
        self.private_subnet_cidrs = tuple(private_subnet_cidrs)
        self.egress = tuple(egress)
        self.register_outputs(
            {
                "network_id": self.network_id,
                "cidr": self.cidr,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_cidrs": list(self.private_subnet_cidrs),
            }
        )
