"""Internal Application Load Balancer in the public (load balancer) tier, in front of the group.

Internal, not internet-facing: its clients are the stage network and the stages routable to
it (`IngressArgs.client_cidrs`), all private ranges. An internet-facing ALB would only answer
public addresses, which those clients reach through NAT with a public source address that the
security group (private ranges only) would refuse. The public subnets stay the load balancer
tier: the private ones hold the app and the database.

Route 53 health checkers cannot reach a private address, so the ALB's health is also a
CloudWatch alarm on its healthy host count (`healthy_alarm_name`), which failover routing turns
into Route 53 health checks (components/aws/routing.py).
"""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_aws as aws

from components.aws.compute import AwsCompute
from components.ingress import Ingress, IngressArgs

LB_NAME_LIMIT = 32
"""Longest name ELB accepts for a load balancer or a target group."""
OPEN = ("0.0.0.0/0", "::/0")
INGRESS_SUFFIX = "-ingress"
"""The environment names its ingress `<stage>-ingress` (components/environment.py)."""


def lb_name(name: str, suffix: str) -> str:
    """`<name>-<suffix>` within ELB's 32 characters: a long name is cut and ends with a hash of
    itself, so that two stages never share a name. Fixed, not auto-named: an auto-name adds 8
    random characters, which a drill stack's name does not leave room for."""
    full = f"{name}-{suffix}"
    if len(full) <= LB_NAME_LIMIT:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    head = full[: LB_NAME_LIMIT - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def healthy_alarm_name(ingress_name: str) -> str:
    """The alarm that is OK while the ingress has a healthy instance (fixed: routing names it)."""
    return f"{ingress_name}-healthy-hosts"


def stage_alarm_name(stage: str) -> str:
    """`healthy_alarm_name` of a stage's ingress, as failover routing finds it."""
    return healthy_alarm_name(f"{stage}{INGRESS_SUFFIX}")


def validate_client_cidrs(client_cidrs: tuple[str, ...]) -> None:
    """The entry point is never open to the world: stageline's clients are private ranges."""
    if not client_cidrs:
        raise ValueError("an ingress needs at least one client range (IngressArgs.client_cidrs)")
    opened = [c for c in client_cidrs if c in OPEN]
    if opened:
        raise ValueError(
            f"ingress client ranges {opened} open the load balancer to the internet; "
            "give the stage's and its routable stages' CIDRs instead"
        )


class AwsIngress(Ingress):
    security_group: aws.ec2.SecurityGroup
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listener: aws.lb.Listener
    attachment: aws.autoscaling.Attachment
    healthy_alarm: aws.cloudwatch.MetricAlarm

    def __init__(
        self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:ingress:AwsIngress", name, None, opts)
        compute = args.compute
        if not isinstance(compute, AwsCompute):
            raise TypeError(f"{name}: an AWS ingress fronts an AwsCompute, not {type(compute)}")
        validate_client_cidrs(args.client_cidrs)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)
        app_port = args.spec.app_port

        # In: the listener, from the client ranges only. Out: the app port of the group's own
        # instances (their security group), nothing else. The instances already accept the app
        # port from the stage network, which the load balancer is in.
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.network_id,
            description="stageline load balancer: HTTP from the client ranges only",
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": args.listen_port,
                    "to_port": args.listen_port,
                    "cidr_blocks": list(args.client_cidrs),
                    "description": "HTTP from the stage and its routable stages",
                }
            ],
            egress=[
                {
                    "protocol": "tcp",
                    "from_port": app_port,
                    "to_port": app_port,
                    "security_groups": [compute.security_group.id],
                    "description": "the application port of the group's instances",
                }
            ],
            tags={**tags, "Name": f"{name}-sg"},
            opts=mine,
        )
        # Fixed names cannot be created before the old one is deleted.
        named = pulumi.ResourceOptions(parent=self, delete_before_replace=True)
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=lb_name(name, "alb"),
            internal=True,
            load_balancer_type="application",
            security_groups=[self.security_group.id],
            subnets=args.public_subnet_ids,
            drop_invalid_header_fields=True,
            tags=tags,
            opts=named,
        )
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            name=lb_name(name, "tg"),
            port=app_port,
            protocol="HTTP",
            target_type="instance",
            vpc_id=args.network_id,
            deregistration_delay=30,
            health_check={
                "enabled": True,
                "protocol": "HTTP",
                "port": "traffic-port",
                "path": args.health_path,
                "matcher": "200",
                "interval": 15,
                "timeout": 5,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
            tags=tags,
            opts=named,
        )
        self.listener = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=args.listen_port,
            protocol="HTTP",
            default_actions=[{"type": "forward", "target_group_arn": self.target_group.arn}],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self.load_balancer),
        )
        # The group registers every instance it launches, also after a scale-out or a refresh.
        self.attachment = aws.autoscaling.Attachment(
            f"{name}-targets",
            autoscaling_group_name=compute.group.name,
            lb_target_group_arn=self.target_group.arn,
            opts=pulumi.ResourceOptions(parent=self.target_group),
        )
        # OK while at least one instance answers /healthz; a pilot light (no instances) is in
        # alarm, which is what failover routing should see.
        self.healthy_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-healthy-hosts",
            name=healthy_alarm_name(name),
            alarm_description=f"stageline: no healthy instance behind {name}",
            namespace="AWS/ApplicationELB",
            metric_name="HealthyHostCount",
            dimensions={
                "LoadBalancer": self.load_balancer.arn_suffix,
                "TargetGroup": self.target_group.arn_suffix,
            },
            statistic="Minimum",
            period=60,
            evaluation_periods=2,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self.target_group, delete_before_replace=True),
        )

        self._publish(self.load_balancer.dns_name, args.listen_port)
