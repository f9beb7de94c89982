"""VPC with a public and a private subnet per zone, and NAT egress for the private tier."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.network import Network, NetworkArgs, plan_subnets


class AwsNetwork(Network):
    vpc: aws.ec2.Vpc
    public_subnets: list[aws.ec2.Subnet]
    private_subnets: list[aws.ec2.Subnet]
    nat_gateways: list[aws.ec2.NatGateway]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:network:AwsNetwork", name, None, opts)
        tags = dict(args.tags or {})
        plan = plan_subnets(args.spec.cidr, len(args.zones))
        mine = pulumi.ResourceOptions(parent=self)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.spec.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": f"{name}-vpc"},
            opts=mine,
        )
        vpc_child = pulumi.ResourceOptions(parent=self.vpc)
        # The default security group allows all traffic between members; empty it so that
        # nothing can join it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=self.vpc.id, tags=tags, opts=vpc_child
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=vpc_child
        )

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            tags={**tags, "Name": f"{name}-public"},
            opts=vpc_child,
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=pulumi.ResourceOptions(parent=public_rt),
        )

        public: list[aws.ec2.Subnet] = []
        private: list[aws.ec2.Subnet] = []
        for i, zone in enumerate(args.zones):
            subnet = aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=self.vpc.id,
                cidr_block=plan.public[i],
                availability_zone=zone,
                # Instances never live here; only NAT gateways do, and they get an EIP.
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-public-{i}", "tier": "public"},
                opts=vpc_child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}-rta",
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=pulumi.ResourceOptions(parent=subnet),
            )
            public.append(subnet)

        self.nat_gateways = self._nat_gateways(name, args, public, igw, tags)
        nat_ids = [nat.id for nat in self.nat_gateways]
        routes: list[aws.ec2.Route] = []
        associations: list[aws.ec2.RouteTableAssociation] = []
        for i, zone in enumerate(args.zones):
            subnet = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=self.vpc.id,
                cidr_block=plan.private[i],
                availability_zone=zone,
                tags={**tags, "Name": f"{name}-private-{i}", "tier": "private"},
                opts=vpc_child,
            )
            rt = aws.ec2.RouteTable(
                f"{name}-private-{i}-rt",
                vpc_id=self.vpc.id,
                tags={**tags, "Name": f"{name}-private-{i}"},
                opts=pulumi.ResourceOptions(parent=subnet),
            )
            if nat_ids:
                route = aws.ec2.Route(
                    f"{name}-private-{i}-default",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_ids[i % len(nat_ids)],
                    opts=pulumi.ResourceOptions(parent=rt),
                )
                routes.append(route)
            rta = aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}-rta",
                subnet_id=subnet.id,
                route_table_id=rt.id,
                opts=pulumi.ResourceOptions(parent=subnet),
            )
            private.append(subnet)
            associations.append(rta)

        self.public_subnets = public
        self.private_subnets = private
        self._publish(
            self.vpc.id,
            args.spec.cidr,
            [s.id for s in public],
            [s.id for s in private],
            plan.private,
            # A private instance reaches out only once its subnet uses the route table, the
            # default route is in it, and the NAT gateway behind it is available (Pulumi waits
            # for that).
            egress=(*self.nat_gateways, *routes, *associations),
        )

    def _nat_gateways(
        self,
        name: str,
        args: NetworkArgs,
        public: list[aws.ec2.Subnet],
        igw: aws.ec2.InternetGateway,
        tags: dict[str, str],
    ) -> list[aws.ec2.NatGateway]:
        count = {"none": 0, "single": 1, "per-zone": len(public)}[args.spec.nat]
        gateways: list[aws.ec2.NatGateway] = []
        for i in range(count):
            eip = aws.ec2.Eip(
                f"{name}-nat-{i}-eip",
                domain="vpc",
                tags={**tags, "Name": f"{name}-nat-{i}"},
                # EC2 refuses a public address, and a NAT gateway, in a VPC with no internet
                # gateway attached yet; nothing else orders them.
                opts=pulumi.ResourceOptions(parent=public[i], depends_on=[igw]),
            )
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{i}",
                allocation_id=eip.allocation_id,
                subnet_id=public[i].id,
                tags={**tags, "Name": f"{name}-nat-{i}"},
                opts=pulumi.ResourceOptions(parent=public[i], depends_on=[igw]),
            )
            gateways.append(nat)
        return gateways
