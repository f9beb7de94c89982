"""The AWS target as the operator sees it: rules, plan-time values and its kit. No AWS SDK."""

from __future__ import annotations

from components.aws.regions import REGIONS
from components.aws.rules import validate
from components.database import POSTGRES_PORT
from components.targets import Computed, Target

# What the provider computes after create, per resource type (for offline plans).
_COMPUTED: dict[str, Computed] = {
    "aws:rds/instance:Instance": lambda name: {
        "identifier": name,
        "address": f"{name}.mock.rds.amazonaws.com",
        "endpoint": f"{name}.mock.rds.amazonaws.com:{POSTGRES_PORT}",
        "port": POSTGRES_PORT,
    },
    "aws:s3/bucket:Bucket": lambda name: {"bucket": name},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda name: {"latestVersion": 1},
    "aws:ec2/eip:Eip": lambda name: {"allocationId": f"eipalloc-{name}"},
    "aws:lb/loadBalancer:LoadBalancer": lambda name: {
        "dnsName": f"internal-{name}.mock.elb.amazonaws.com",
        "arnSuffix": f"app/{name}/0123456789abcdef",
    },
    "aws:lb/targetGroup:TargetGroup": lambda name: {
        "arnSuffix": f"targetgroup/{name}/0123456789abcdef"
    },
}

# What the provider answers to the invokes the kit makes, per function token (offline plans).
_CALLS = {
    # Failover routing looks its private hosted zone up by name (components/aws/routing.py).
    "aws:route53/getZone:getZone": {
        "id": "Z0MOCKZONE",
        "zoneId": "Z0MOCKZONE",
        "name": "mock.zone",
        "privateZone": True,
        "arn": "arn:aws:route53:::hostedzone/Z0MOCKZONE",
    },
}


TARGET = Target(
    name="aws",
    kit="components.aws.kit",
    places=REGIONS,
    sdk=("pulumi_aws",),
    rules=validate,
    computed=_COMPUTED,
    mock_calls=_CALLS,
    ops="components.aws.ops",
    policy="components.aws.policy",
)
