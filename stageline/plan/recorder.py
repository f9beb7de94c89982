"""A mock monitor that records what the program registers: the plan's resource tree and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    retain_on_delete: bool
    inputs: dict[str, Any] = field(default_factory=dict)


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Any) -> None:
        super().__init__(mocks)
        self.planned: list[PlannedResource] = []
        self.exports: dict[str, Any] = {}
        self.stack_urn = ""

    def _record(self, request: Any, urn: str, custom: bool, inputs: dict[str, Any]) -> None:
        self.planned.append(
            PlannedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=custom,
                protect=bool(getattr(request, "protect", False)),
                retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
                inputs=inputs,
            )
        )

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            self.stack_urn = response.urn
            self._record(request, response.urn, False, {})
        else:
            inputs = rpc.deserialize_properties(request.object)
            self._record(request, response.urn, bool(request.custom), inputs)
        return response

    def ReadResource(self, request: Any) -> Any:
        # Reads (StackReference among them) touch nothing but belong in the plan all the same.
        response = super().ReadResource(request)
        self._record(request, response.urn, True, rpc.deserialize_properties(request.properties))
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self.stack_urn:
            self.exports = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)
