"""Small readers over a StagePlan's recorded resources, shared by the stage tests."""

from __future__ import annotations

from stageline.plan.recorder import PlannedResource
from stageline.plan.runner import StagePlan


def of_type(plan: StagePlan, type_: str) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type == type_]


def one(plan: StagePlan, type_: str) -> PlannedResource:
    found = of_type(plan, type_)
    assert len(found) == 1, f"{plan.stack}: expected one {type_}, got {[r.urn for r in found]}"
    return found[0]


def logical_name(plan: StagePlan, resource: PlannedResource) -> str:
    """The name without the stack prefix, so that stages compare like for like."""
    if resource.name == plan.stack:
        return "<stage>"
    return resource.name.removeprefix(f"{plan.stack}-")
