"""VPC with a public and a private subnetwork per zone, Cloud NAT for the private tier, private
service access for Cloud SQL, and firewall rules that keep the database to the app tier."""

from __future__ import annotations

import pulumi
from pulumi_gcp import compute, servicenetworking

from components.database import POSTGRES_PORT
from components.gcp.addressing import public_ranges, service_range
from components.gcp.naming import APP_TAG, labels
from components.network import Network, NetworkArgs, plan_subnets


class GcpNetwork(Network):
    vpc: compute.Network
    public_subnets: list[compute.Subnetwork]
    private_subnets: list[compute.Subnetwork]
    service_range: compute.GlobalAddress
    service_connection: servicenetworking.Connection
    nat: compute.RouterNat | None

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:network:GcpNetwork", name, None, opts)
        zone_count = len(args.zones)
        plan = plan_subnets(args.spec.cidr, zone_count)
        mine = pulumi.ResourceOptions(parent=self)

        self.vpc = compute.Network(
            f"{name}-vpc",
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description=f"stageline {name}",
            opts=mine,
        )
        vpc_child = pulumi.ResourceOptions(parent=self.vpc)
        # GCP subnetworks are regional; one per zone keeps every target's address plan.
        self.public_subnets = [
            compute.Subnetwork(
                f"{name}-public-{i}",
                network=self.vpc.id,
                ip_cidr_range=cidr,
                opts=vpc_child,
            )
            for i, cidr in enumerate(public_ranges(args.spec.cidr, zone_count))
        ]
        self.private_subnets = [
            compute.Subnetwork(
                f"{name}-private-{i}",
                network=self.vpc.id,
                ip_cidr_range=cidr,
                # Google APIs (logging, monitoring, the registry) without a public IP.
                private_ip_google_access=True,
                opts=vpc_child,
            )
            for i, cidr in enumerate(plan.private)
        ]

        reserved = service_range(args.spec.cidr, zone_count)
        self.service_range = compute.GlobalAddress(
            f"{name}-psa-range",
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(reserved.network_address),
            prefix_length=reserved.prefixlen,
            network=self.vpc.id,
            labels=labels(args.tags),
            opts=vpc_child,
        )
        self.service_connection = servicenetworking.Connection(
            f"{name}-psa",
            network=self.vpc.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[self.service_range.name],
            # Google removes the peering only after its last Cloud SQL instance is gone;
            # deleting it first fails, so the stage's destroy abandons it with the VPC.
            deletion_policy="ABANDON",
            opts=pulumi.ResourceOptions(parent=self.service_range),
        )

        # The database is reachable only from the application tier: instances carrying the app
        # tag may open PostgreSQL connections into the service range, nothing else may.
        compute.Firewall(
            f"{name}-db-allow",
            network=self.vpc.id,
            direction="EGRESS",
            priority=1000,
            destination_ranges=[str(reserved)],
            allows=[{"protocol": "tcp", "ports": [str(POSTGRES_PORT)]}],
            target_tags=[APP_TAG],
            opts=vpc_child,
        )
        compute.Firewall(
            f"{name}-db-deny",
            network=self.vpc.id,
            direction="EGRESS",
            priority=1100,
            destination_ranges=[str(reserved)],
            denies=[{"protocol": "all"}],
            opts=vpc_child,
        )

        self.nat = None
        egress: tuple[pulumi.Resource, ...] = ()
        if args.spec.nat != "none":
            # Cloud NAT is a regional managed service, highly available on its own: `single`
            # and `per-zone` both mean one gateway for the private tier.
            router = compute.Router(f"{name}-router", network=self.vpc.id, opts=vpc_child)
            self.nat = compute.RouterNat(
                f"{name}-nat",
                router=router.name,
                nat_ip_allocate_option="AUTO_ONLY",
                source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
                subnetworks=[
                    {"name": s.id, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}
                    for s in self.private_subnets
                ],
                log_config={"enable": True, "filter": "ERRORS_ONLY"},
                opts=pulumi.ResourceOptions(parent=router),
            )
            egress = (router, self.nat)

        self._publish(
            self.vpc.id,
            args.spec.cidr,
            [s.id for s in self.public_subnets],
            [s.id for s in self.private_subnets],
            plan.private,
            egress=egress,
            # Cloud SQL joins the VPC through the service connection.
            ready=[self.service_connection],
        )
