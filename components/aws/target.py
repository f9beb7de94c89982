"""The AWS target as the operator sees it: rules, plan-time values and its kit. No AWS SDK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from components.aws.regions import REGIONS
from components.aws.rules import validate
from components.database import POSTGRES_PORT
from components.targets import Target

if TYPE_CHECKING:
    from components.kit import KitBuilder


def _kit() -> KitBuilder:
    from components.aws.kit import build

    return build


# What the provider computes after create, per resource type (for offline plans).
_COMPUTED: dict[str, Any] = {
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


def mock_state(typ: str, name: str, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    computed = _COMPUTED.get(typ)
    return computed(name) if computed else {}


TARGET = Target(
    name="aws", kit=_kit, places=REGIONS, sdk=("pulumi_aws",), rules=validate, mock_state=mock_state
)
