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
}


TARGET = Target(
    name="aws",
    kit="components.aws.kit",
    places=REGIONS,
    sdk=("pulumi_aws",),
    rules=validate,
    computed=_COMPUTED,
)
