"""The AWS ingress (internal ALB) and failover routing, built under Pulumi mocks."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.aws.compute import AwsCompute
from components.aws.ingress import AwsIngress, lb_name, stage_alarm_name, validate_client_cidrs
from components.aws.routing import AwsRouting
from components.ingress import IngressArgs
from components.routing import RoutedSide, RoutingArgs
from components.spec import ComputeSpec
from tests.unit.args import compute_args
from tests.unit.recording import (
    RecordingMocks,
    RequestMonitor,
    after_registration,
    program_test,
    record,
)

CLIENTS = ("10.51.0.0/16", "10.50.0.0/16")


@pytest.fixture
def monitor() -> RequestMonitor:
    return record()


def _ingress(name: str = "prod-dr-ingress") -> tuple[AwsCompute, AwsIngress]:
    spec = ComputeSpec(size="xsmall", min_count=0, max_count=4, app_port=8080)
    compute = AwsCompute(
        "c",
        compute_args(
            size="xsmall",
            min_count=0,
            max_count=4,
            app_port=8080,
            network_id="vpc-1",
            subnet_ids=["s-1", "s-2"],
            ingress_cidr="10.51.0.0/16",
            artifact="ghcr.io/acme/shop:1.0.0",
        ),
    )
    ingress = AwsIngress(
        name,
        IngressArgs(
            spec=spec,
            network_id="vpc-1",
            public_subnet_ids=["pub-1", "pub-2"],
            compute=compute,
            client_cidrs=CLIENTS,
        ),
    )
    return compute, ingress


def _created(monitor: RequestMonitor) -> dict[str, Any]:
    mocks: RecordingMocks = monitor.mocks  # type: ignore[assignment]
    return {r.name: r for r in mocks.created}


def test_load_balancer_is_internal_and_checks_healthz(monitor: RequestMonitor):
    @pulumi.runtime.test
    def build():
        compute, ingress = _ingress()
        return pulumi.Output.all(ingress.address, ingress.endpoint, compute.group.name)

    build()
    created = _created(monitor)
    lb = created["prod-dr-ingress-alb"].inputs
    urn = monitor.urn_of("prod-dr-ingress-alb")
    assert lb["internal"] is True and lb["loadBalancerType"] == "application", urn
    assert lb["subnets"] == ["pub-1", "pub-2"], f"{urn}: not in the public (LB) tier"
    tg = created["prod-dr-ingress-tg"].inputs
    hc = tg["healthCheck"]
    assert (hc["path"], hc["matcher"], hc["protocol"]) == ("/healthz", "200", "HTTP"), tg
    assert tg["port"] == 8080 and tg["protocol"] == "HTTP", tg
    listener = created["prod-dr-ingress-http"].inputs
    assert listener["port"] == 80 and listener["defaultActions"][0]["type"] == "forward"
    attach = created["prod-dr-ingress-targets"].inputs
    assert attach["autoscalingGroupName"] == "c-asg", attach
    assert (
        attach["lbTargetGroupArn"] == "arn:mock:aws:lb/targetGroup:TargetGroup:prod-dr-ingress-tg"
    )
    # An instance failing /healthz at the load balancer is replaced, after its boot.
    asg = created["c-asg"].inputs
    assert asg["healthCheckType"] == "ELB" and asg["healthCheckGracePeriod"] > 0, asg


@program_test
def test_ingress_publishes_the_load_balancer_name(monitor: RequestMonitor):
    _, ingress = _ingress()

    def check(args: list) -> None:
        urn, address, endpoint, dns = args
        assert address == dns, f"{urn}: address {address}, ALB {dns}"
        assert endpoint == f"http://{dns}/", f"{urn}: {endpoint}"

    return pulumi.Output.all(
        ingress.urn, ingress.address, ingress.endpoint, ingress.load_balancer.dns_name
    ).apply(after_registration(check))


def test_load_balancer_is_reachable_only_from_the_client_ranges(monitor: RequestMonitor):
    @pulumi.runtime.test
    def build():
        compute, ingress = _ingress()
        return pulumi.Output.all(ingress.security_group.id, compute.security_group.id)

    build()
    created = _created(monitor)
    sg = created["prod-dr-ingress-sg"].inputs
    urn = monitor.urn_of("prod-dr-ingress-sg")
    (rule,) = sg["ingress"]
    assert rule["cidrBlocks"] == list(CLIENTS), f"{urn}: {rule}"
    assert (rule["fromPort"], rule["toPort"]) == (80, 80), urn
    (out,) = sg["egress"]
    assert (out["fromPort"], out["toPort"], out["protocol"]) == (8080, 8080, "tcp"), urn
    assert out["securityGroups"] == ["c-sg-id"], f"{urn}: egress beyond the app's instances"
    every = [c for r in sg["ingress"] + sg["egress"] for c in r.get("cidrBlocks", [])]
    assert "0.0.0.0/0" not in every, f"{urn}: open to the world"


@pytest.mark.parametrize("open_range", ["0.0.0.0/0", "::/0"])
def test_an_open_client_range_is_refused(open_range: str) -> None:
    with pytest.raises(ValueError, match="internet"):
        validate_client_cidrs(("10.0.0.0/16", open_range))
    with pytest.raises(ValueError, match="at least one"):
        validate_client_cidrs(())


@pytest.mark.parametrize(
    "name", ["prod-ingress", "prod-drill-1a2b3c4d-ingress", "a-very-long-stage-name-x-ingress"]
)
def test_load_balancer_names_fit_and_stay_distinct(name: str) -> None:
    for suffix in ("alb", "tg"):
        got = lb_name(name, suffix)
        assert len(got) <= 32 and not got.endswith("-"), got
        assert got != lb_name(name + "2", suffix), got
    assert lb_name("prod-ingress", "alb") == "prod-ingress-alb"


def test_healthy_hosts_alarm_is_what_routing_follows(monitor: RequestMonitor):
    @pulumi.runtime.test
    def build():
        _, ingress = _ingress("prod-ingress")
        return ingress.healthy_alarm.name

    build()
    alarm = _created(monitor)["prod-ingress-healthy-hosts"].inputs
    assert alarm["name"] == stage_alarm_name("prod"), alarm
    assert alarm["metricName"] == "HealthyHostCount", alarm
    assert alarm["namespace"] == "AWS/ApplicationELB", alarm
    assert alarm["comparisonOperator"] == "LessThanThreshold" and alarm["threshold"] == 1
    assert alarm["dimensions"]["LoadBalancer"].startswith("app/"), alarm
    assert alarm["dimensions"]["TargetGroup"].startswith("targetgroup/"), alarm
    assert monitor.requests["prod-ingress-healthy-hosts"].deleteBeforeReplace


def _routing(preferred: str, fallback: str) -> AwsRouting:
    sides = {
        "prod": RoutedSide("prod", "internal-prod.us-east-1.elb.amazonaws.com", "us-east-1"),
        "prod-dr": RoutedSide("prod-dr", "internal-dr.us-west-2.elb.amazonaws.com", "us-west-2"),
    }
    return AwsRouting("r", RoutingArgs("example.internal", sides[preferred], sides[fallback]))


@pytest.mark.parametrize(("preferred", "fallback"), [("prod", "prod-dr"), ("prod-dr", "prod")])
def test_failover_records_follow_preferred_then_fallback(
    monitor: RequestMonitor, preferred: str, fallback: str
):
    @pulumi.runtime.test
    def build():
        return _routing(preferred, fallback).fqdn

    build()
    created = _created(monitor)
    primary, secondary = created["r-primary"].inputs, created["r-secondary"].inputs
    assert primary["failoverRoutingPolicies"] == [{"type": "PRIMARY"}], primary
    assert secondary["failoverRoutingPolicies"] == [{"type": "SECONDARY"}], secondary
    assert primary["records"][0].startswith(f"internal-{preferred.replace('prod-', '')}"), primary
    assert primary["zoneId"] == "Z0MOCKZONE", f"zone not looked up: {primary}"
    # Checks stay with their side, so a failover moves each record to the other side's check.
    assert primary["healthCheckId"] == f"r-health-{preferred}-id", primary
    assert secondary["healthCheckId"] == f"r-health-{fallback}-id", secondary
    check = created[f"r-health-{preferred}"].inputs
    assert check["type"] == "CLOUDWATCH_METRIC", check
    assert check["cloudwatchAlarmName"] == stage_alarm_name(preferred), check
    assert check["insufficientDataHealthStatus"] == "Unhealthy", check
