"""Text and JSON views of a plan: the resource tree with key properties, and the exports."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from pulumi.runtime import rpc

from stageline.plan.recorder import STACK_TYPE, PlannedResource
from stageline.plan.runner import StagePlan

SECRET_MASK = "[secret]"

# The inputs a reviewer looks for in a plan; everything else stays in --format json.
KEY_PROPERTIES = (
    "region",
    "cidrBlock",
    "availabilityZone",
    "instanceType",
    "instanceClass",
    "engineVersion",
    "allocatedStorage",
    "multiAz",
    "publiclyAccessible",
    "storageEncrypted",
    "deletionProtection",
    "backupRetentionPeriod",
    "minSize",
    "maxSize",
    "retentionInDays",
    "threshold",
    "versioningConfiguration",
    "name",
)


def masked(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return SECRET_MASK
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    # The wire format carries every number as a double; show counts as counts.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _props(resource: PlannedResource) -> str:
    parts = []
    for key in KEY_PROPERTIES:
        if key in resource.inputs and resource.inputs[key] not in (None, ""):
            value = masked(resource.inputs[key])
            if isinstance(value, dict | list):
                value = json.dumps(value, separators=(",", ":"))
            parts.append(f"{key}={value}")
    if resource.protect:
        parts.append("protect")
    if resource.retain_on_delete:
        parts.append("retainOnDelete")
    return " ".join(parts)


def render_tree(resources: list[PlannedResource]) -> list[str]:
    children: dict[str, list[PlannedResource]] = defaultdict(list)
    roots: list[PlannedResource] = []
    for r in resources:
        if r.type == STACK_TYPE:
            roots.append(r)
        else:
            children[r.parent].append(r)
    lines: list[str] = []

    def walk(node: PlannedResource, depth: int) -> None:
        props = _props(node)
        lines.append(f"{'  ' * depth}{node.type}  {node.name}" + (f"  [{props}]" if props else ""))
        # Registration order varies run to run; sorted output diffs cleanly in CI.
        for child in sorted(children.get(node.urn, []), key=lambda r: (r.name, r.type)):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines


def render_text(plan: StagePlan) -> str:
    custom = sum(1 for r in plan.resources if r.custom)
    lines = [f"== {plan.stack}: {custom} resources =="]
    lines += render_tree(plan.resources)
    for warning in plan.warnings:
        lines.append(f"warning: {warning}")
    lines.append("exports:")
    exports = masked(plan.exports)
    for key in sorted(exports):
        lines.append(f"  {key}: {json.dumps(exports[key], sort_keys=True)}")
    return "\n".join(lines)


def render_json(plans: list[StagePlan]) -> str:
    return json.dumps(
        {
            p.stack: {
                "ok": p.ok,
                "error": str(p.error) if p.error else None,
                "warnings": p.warnings,
                "resources": [
                    {
                        "urn": r.urn,
                        "type": r.type,
                        "name": r.name,
                        "protect": r.protect,
                        "inputs": masked(r.inputs),
                    }
                    # Registration order varies run to run; URN order is stable.
                    for r in sorted(p.resources, key=lambda r: r.urn)
                ],
                "exports": masked(p.exports),
            }
            for p in plans
        },
        indent=2,
        sort_keys=True,
        default=str,
    )
