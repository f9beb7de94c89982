"""Mocks standing in for the engine and providers during an offline plan.

They echo inputs back as state and fill in the values a cloud computes (ARNs, endpoints,
generated names), so that applies run and exports resolve exactly as they would in an `up`.
Each target supplies the values of its own resource types (its `target.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.targets import owner_of_type

STACK_REFERENCE = "pulumi:pulumi:StackReference"

# Values the shared providers compute after create, per resource type.
_COMPUTED: dict[str, Any] = {
    "random:index/randomPassword:RandomPassword": lambda name: {"result": "mock-password"},
    "random:index/randomString:RandomString": lambda name: {"result": "a1b2c3"},
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
        owner = owner_of_type(args.typ)
        if owner is not None:
            state.update(owner.planned_state(args.typ, args.name, args.inputs))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list]:
        owner = owner_of_type(args.token)
        answer = owner.mock_calls.get(args.token, {}) if owner is not None else {}
        # No failures: the SDK iterates the second item.
        return dict(answer), []
