"""Reference point: a plain hand-written program declaring a similar ~30-resource AWS
environment, run under the same kind of mocks. Not used by stageline; measured beside it."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return f"{args.name}-id", {**args.inputs, "arn": f"arn:mock:{args.name}", "name": args.name}

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}, None


def program() -> None:
    vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16")
    igw = aws.ec2.InternetGateway("igw", vpc_id=vpc.id)
    rt = aws.ec2.RouteTable("public", vpc_id=vpc.id)
    aws.ec2.Route(
        "default", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id
    )
    subnets = []
    for i, zone in enumerate(["us-east-1a", "us-east-1b", "us-east-1c"]):
        pub = aws.ec2.Subnet(
            f"public-{i}", vpc_id=vpc.id, cidr_block=f"10.0.{i}.0/24", availability_zone=zone
        )
        aws.ec2.RouteTableAssociation(f"public-{i}", subnet_id=pub.id, route_table_id=rt.id)
        priv = aws.ec2.Subnet(
            f"private-{i}", vpc_id=vpc.id, cidr_block=f"10.0.{10 + i}.0/24", availability_zone=zone
        )
        eip = aws.ec2.Eip(f"nat-{i}", domain="vpc")
        nat = aws.ec2.NatGateway(f"nat-{i}", allocation_id=eip.id, subnet_id=pub.id)
        prt = aws.ec2.RouteTable(f"private-{i}", vpc_id=vpc.id)
        aws.ec2.Route(
            f"private-{i}",
            route_table_id=prt.id,
            destination_cidr_block="0.0.0.0/0",
            nat_gateway_id=nat.id,
        )
        subnets.append(priv)
    sg = aws.ec2.SecurityGroup("app", vpc_id=vpc.id)
    lt = aws.ec2.LaunchTemplate("app", instance_type="m6i.large", vpc_security_group_ids=[sg.id])
    aws.autoscaling.Group(
        "app",
        min_size=3,
        max_size=12,
        vpc_zone_identifiers=[s.id for s in subnets],
        launch_template={"id": lt.id, "version": "$Latest"},
    )
    pw = random.RandomPassword("db", length=32)
    sn = aws.rds.SubnetGroup("db", subnet_ids=[s.id for s in subnets])
    db = aws.rds.Instance(
        "db",
        engine="postgres",
        instance_class="db.m6g.large",
        allocated_storage=100,
        password=pw.result,
        db_subnet_group_name=sn.name,
        multi_az=True,
        storage_encrypted=True,
    )
    bucket = aws.s3.Bucket("data")
    aws.s3.BucketVersioning(
        "data", bucket=bucket.id, versioning_configuration={"status": "Enabled"}
    )
    aws.s3.BucketPublicAccessBlock("data", bucket=bucket.id, block_public_acls=True)
    aws.cloudwatch.LogGroup("logs", retention_in_days=365)
    aws.cloudwatch.MetricAlarm(
        "cpu",
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=2,
        metric_name="CPUUtilization",
        namespace="AWS/EC2",
        period=300,
        statistic="Average",
        threshold=80,
    )
    pulumi.export("endpoint", db.address)


if __name__ == "__main__":
    pulumi.runtime.set_mocks(Mocks(), project="baseline", stack="prod", preview=False)
    pulumi.runtime.test(program)()
