"""VNet with a public and a private subnet per zone, NAT egress, a delegated database subnet and
an NSG per tier."""

from __future__ import annotations

import ipaddress

import pulumi
from pulumi_azure_native import network, resources

from components.azure.naming import DATABASE_SUBNET
from components.database import POSTGRES_PORT
from components.network import Network, NetworkArgs, plan_subnets
from components.spec import RESERVED_PORTS

POSTGRES_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"
PROBE_SOURCE = "AzureTrafficManager"
"""Service tag of Traffic Manager's health probes."""


def app_port_ranges() -> list[str]:
    """Every port an app may listen on: all but the reserved ones (SSH, PostgreSQL), which
    the spec refuses as `compute.appPort`."""
    ranges, low = [], 1
    for reserved in sorted(RESERVED_PORTS):
        if low < reserved:
            ranges.append(f"{low}-{reserved - 1}")
        low = reserved + 1
    return [*ranges, f"{low}-65535"]


def database_range(cidr: str, zone_count: int) -> str:
    """The delegated database subnet: the upper half of the last public range.

    The subnet plan hands the whole stage network to the public and private tiers, and a Flexible
    Server needs a subnet of its own. Public subnets on Azure hold nothing (NAT gateways attach to
    subnets rather than living in them), so the last one gives up half its range. The private
    ranges stay exactly those of every other target.
    """
    last_public = ipaddress.ip_network(plan_subnets(cidr, zone_count).public[-1])
    return str(list(last_public.subnets(prefixlen_diff=1))[1])


def public_ranges(cidr: str, zone_count: int) -> tuple[str, ...]:
    public = list(plan_subnets(cidr, zone_count).public)
    public[-1] = str(next(ipaddress.ip_network(public[-1]).subnets(prefixlen_diff=1)))
    return tuple(public)


def _rule(
    name: str, priority: int, access: str, source: str | list[str], port: str | int
) -> dict[str, object]:
    sources = {"source_address_prefixes": source} if isinstance(source, list) else {}
    return {
        "name": name,
        "priority": priority,
        "direction": "Inbound",
        "access": access,
        "protocol": "Tcp" if access == "Allow" else "*",
        "source_address_prefix": None if sources else source,
        **sources,
        "source_port_range": "*",
        "destination_address_prefix": "*",
        "destination_port_range": str(port),
    }


class AzureNetwork(Network):
    resource_group: resources.ResourceGroup
    vnet: network.VirtualNetwork
    public_subnets: list[network.Subnet]
    private_subnets: list[network.Subnet]
    database_subnet: network.Subnet
    nat_gateways: list[network.NatGateway]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:network:AzureNetwork", name, None, opts)
        tags = dict(args.tags or {})
        zones = list(args.zones)
        plan = plan_subnets(args.spec.cidr, len(zones))
        mine = pulumi.ResourceOptions(parent=self)

        self.resource_group = resources.ResourceGroup(f"{name}-rg", tags=tags, opts=mine)
        rg = self.resource_group.name
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=rg,
            address_space={"address_prefixes": [args.spec.cidr]},
            tags=tags,
            opts=mine,
        )
        vnet_child = pulumi.ResourceOptions(parent=self.vnet)

        # Beyond Azure's defaults (deny from the internet, allow inside the VNet), the private
        # tier refuses the internet explicitly (but for Traffic Manager's probes) and the
        # database subnet takes PostgreSQL from the private tier only.
        public_nsg = network.NetworkSecurityGroup(
            f"{name}-public-nsg", resource_group_name=rg, tags=tags, opts=vnet_child
        )
        private_nsg = network.NetworkSecurityGroup(
            f"{name}-private-nsg",
            resource_group_name=rg,
            security_rules=[
                # Traffic Manager probes `/healthz` through the app's public load balancer.
                # The network does not know the app's port: the instances' own group admits
                # the probes to it alone; here no reserved port is opened to them.
                *(
                    _rule(f"traffic-manager-probes-{i}", 3900 + i, "Allow", PROBE_SOURCE, ports)
                    for i, ports in enumerate(app_port_ranges())
                ),
                _rule("deny-internet-inbound", 4000, "Deny", "Internet", "*"),
            ],
            tags=tags,
            opts=vnet_child,
        )
        database_nsg = network.NetworkSecurityGroup(
            f"{name}-database-nsg",
            resource_group_name=rg,
            security_rules=[
                _rule(
                    "postgres-from-private-tier", 100, "Allow", list(plan.private), POSTGRES_PORT
                ),
                _rule("deny-other-inbound", 4096, "Deny", "*", "*"),
            ],
            tags=tags,
            opts=vnet_child,
        )

        self.nat_gateways = self._nat_gateways(name, args, rg, tags)
        nat_ids = [nat.id for nat in self.nat_gateways]

        # ARM serializes writes to one VNet; subnets created in parallel fail with
        # AnotherOperationInProgress, so each waits for the one before it.
        previous: list[pulumi.Resource] = []

        def subnet(suffix: str, **props: object) -> network.Subnet:
            created = network.Subnet(
                f"{name}-{suffix}",
                resource_group_name=rg,
                virtual_network_name=self.vnet.name,
                opts=pulumi.ResourceOptions(parent=self.vnet, depends_on=list(previous)),
                **props,  # type: ignore[arg-type]
            )
            previous[:] = [created]
            return created

        self.public_subnets = [
            subnet(
                f"public-{i}",
                address_prefix=prefix,
                network_security_group={"id": public_nsg.id},
            )
            for i, prefix in enumerate(public_ranges(args.spec.cidr, len(zones)))
        ]
        self.private_subnets = [
            subnet(
                f"private-{i}",
                address_prefix=prefix,
                network_security_group={"id": private_nsg.id},
                nat_gateway={"id": nat_ids[i % len(nat_ids)]} if nat_ids else None,
                # Egress only through the NAT gateway: no implicit outbound IP.
                default_outbound_access=False,
            )
            for i, prefix in enumerate(plan.private)
        ]
        self.database_subnet = subnet(
            "database",
            subnet_name=DATABASE_SUBNET,
            address_prefix=database_range(args.spec.cidr, len(zones)),
            network_security_group={"id": database_nsg.id},
            delegations=[{"name": "postgres", "service_name": POSTGRES_DELEGATION}],
            default_outbound_access=False,
        )

        self._publish(
            self.vnet.id,
            args.spec.cidr,
            [s.id for s in self.public_subnets],
            [s.id for s in self.private_subnets],
            plan.private,
            # The database addresses its delegated subnet through the VNet's ID.
            ready=[self.database_subnet],
        )

    def _nat_gateways(
        self, name: str, args: NetworkArgs, rg: pulumi.Output[str], tags: dict[str, str]
    ) -> list[network.NatGateway]:
        # `per-zone` pins one gateway to each zone (a NAT gateway is zonal); `single` lets
        # Azure place one regional gateway.
        zones: list[str | None] = {
            "none": [],
            "single": [None],
            "per-zone": list(args.zones),
        }[args.spec.nat]
        gateways: list[network.NatGateway] = []
        for i, zone in enumerate(zones):
            pinned = [zone] if zone else None
            ip = network.PublicIPAddress(
                f"{name}-nat-{i}-ip",
                resource_group_name=rg,
                sku={"name": "Standard"},
                public_ip_allocation_method="Static",
                zones=pinned,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            gateways.append(
                network.NatGateway(
                    f"{name}-nat-{i}",
                    resource_group_name=rg,
                    sku={"name": "Standard"},
                    public_ip_addresses=[{"id": ip.id}],
                    zones=pinned,
                    tags=tags,
                    opts=pulumi.ResourceOptions(parent=ip),
                )
            )
        return gateways
