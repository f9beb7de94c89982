"""Route 53 failover records for `app.<zone>`, owned by the DR stage.

The zone is a private hosted zone (looked up by name): both sides' load balancers are internal,
and the name only has to resolve inside the stage networks associated with the zone. Route 53
health checkers sit outside every VPC and cannot probe a private address (AWS: "Configuring
failover in a private hosted zone"), so each side's health check follows the CloudWatch alarm
its own ingress keeps on its healthy host count (components/aws/ingress.py), in its region.

Records and checks are named by role and by stage, so a failover (`preferred` becomes the DR
side) updates both records in place: the same change `stageline dr failover` made already
(components/aws/ops.py), so converging afterwards changes nothing.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.aws.ingress import stage_alarm_name
from components.routing import RoutedSide, Routing, RoutingArgs

TTL_SECONDS = 60
ROLES = (("primary", "PRIMARY"), ("secondary", "SECONDARY"))
"""(set identifier, Route 53 failover type), preferred side first."""


class AwsRouting(Routing):
    health_checks: dict[str, aws.route53.HealthCheck]
    """By stage."""
    records: dict[str, aws.route53.Record]
    """By set identifier (`primary`, `secondary`)."""

    def __init__(
        self, name: str, args: RoutingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:routing:AwsRouting", name, None, opts)
        tags = dict(args.tags or {})
        zone = aws.route53.get_zone_output(
            name=args.zone,
            private_zone=True,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        sides: tuple[RoutedSide, RoutedSide] = (args.preferred, args.fallback)
        self.health_checks = {}
        self.records = {}
        for side in sides:
            self.health_checks[side.stage] = aws.route53.HealthCheck(
                f"{name}-health-{side.stage}",
                type="CLOUDWATCH_METRIC",
                cloudwatch_alarm_name=stage_alarm_name(side.stage),
                cloudwatch_alarm_region=side.region,
                # No data yet (a side just created) counts as down: never fail over to it.
                insufficient_data_health_status="Unhealthy",
                tags={**tags, "Name": f"{args.fqdn} {side.stage}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
        for side, (identifier, failover) in zip(sides, ROLES, strict=True):
            self.records[identifier] = aws.route53.Record(
                f"{name}-{identifier}",
                zone_id=zone.zone_id,
                name=args.fqdn,
                type="CNAME",
                ttl=TTL_SECONDS,
                records=[side.address],
                set_identifier=identifier,
                failover_routing_policies=[{"type": failover}],
                health_check_id=self.health_checks[side.stage].id,
                opts=pulumi.ResourceOptions(parent=self),
            )

        self._publish(args.fqdn)
