"""Mocks standing in for the engine and providers during an offline plan.

They echo inputs back as state and fill in the values a cloud computes (ARNs, endpoints,
generated names), so that applies run and exports resolve exactly as they would in an `up`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

STACK_REFERENCE = "pulumi:pulumi:StackReference"

# Values the provider computes after create, per resource type.
_COMPUTED: dict[str, Any] = {
    "aws:rds/instance:Instance": lambda name: {
        "identifier": name,
        "address": f"{name}.mock.rds.amazonaws.com",
        "endpoint": f"{name}.mock.rds.amazonaws.com:5432",
        "port": 5432,
    },
    "aws:s3/bucket:Bucket": lambda name: {"bucket": name},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda name: {"latestVersion": 1},
    "aws:ec2/eip:Eip": lambda name: {"allocationId": f"eipalloc-{name}"},
    "random:index/randomPassword:RandomPassword": lambda name: {"result": "mock-password"},
}


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self, upstreams: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.upstreams = dict(upstreams or {})
        """Stack outputs by fully qualified stack name, served to StackReference reads."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            ref = str(args.inputs.get("name", args.name))
            outputs = self.upstreams.get(ref, {})
            return ref, {"name": ref, "outputs": dict(outputs), "secretOutputNames": []}
        state = dict(args.inputs)
        state.setdefault("arn", f"arn:mock:{args.typ}:{args.name}")
        state.setdefault("name", args.name)
        computed = _COMPUTED.get(args.typ)
        if computed is not None:
            state.update(computed(args.name))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None
