"""The policy gate over offline plans: the policies of policy/ run over the resources a stage's
plan registered (stageline/plan), as `stageline plan` and `preview --all` report them.

    context = context_for(graph, "prod", stage="prod")
    violations = evaluate_plan(plan, context)     # list[stageline.ci.report.Violation]
    if blocking(violations): ...                  # any mandatory one fails the command
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.runtime import rpc

from policy.broadening import Widening, widenings
from policy.evaluate import evaluate, is_data
from policy.model import UNKNOWN, Finding, Resource, Secret, StageContext
from stageline.ci.report import Violation
from stageline.graph import StageGraph
from stageline.plan.recorder import PlannedResource
from stageline.plan.runner import StagePlan


def context_for(graph: StageGraph, stack: str, stage: str | None = None) -> StageContext:
    """The policy context of `stack` (a stage, or an ephemeral copy whose `stage` is given):
    its tier and region, and for a DR stage its primary's region."""
    node = graph.nodes[stack]
    primary = graph.nodes.get(node.promotes_from or "") if node.is_dr else None
    return StageContext(
        stage=stage or node.name,
        tier=node.tier,
        region=node.region,
        primary_region=primary.region if primary is not None else None,
    )


SECRET_TEXT = "[secret]"


def policy_value(value: Any) -> Any:
    """A recorded input as the policies read it: secrets marked, unknowns recognised."""
    if rpc.is_rpc_secret(value):
        # An engine event carries a secret as its ciphertext, never its value.
        return Secret(policy_value(value.get("value", SECRET_TEXT)))
    if isinstance(value, str) and value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, dict):
        return {k: policy_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [policy_value(v) for v in value]
    return value


def as_resource(planned: PlannedResource) -> Resource:
    return Resource(
        type=planned.type,
        name=planned.name,
        inputs=policy_value(planned.inputs),
        urn=planned.urn,
        protect=planned.protect,
        retain_on_delete=planned.retain_on_delete,
    )


def as_violation(finding: Finding) -> Violation:
    return Violation(
        policy=finding.policy,
        level=finding.level,
        urn=finding.urn,
        type=finding.type,
        message=finding.message,
        fix=finding.fix,
    )


def evaluate_resources(
    resources: Iterable[PlannedResource], context: StageContext
) -> list[Violation]:
    return [as_violation(f) for f in evaluate(map(as_resource, resources), context)]


def evaluate_plan(plan: StagePlan, context: StageContext) -> list[Violation]:
    """Every violation in a stage's offline plan, mandatory ones first, then by URN (none for a
    failed plan: its error is reported instead)."""
    if not plan.ok:
        return []
    # Resource order follows registration, which concurrent plans do not fix: sort by URN.
    found = evaluate_resources(plan.resources, context)
    return sorted(found, key=lambda v: (v.level != "mandatory", v.urn, v.policy, v.message))


def holds_data(resource_type: str, inputs: Mapping[str, Any] | None) -> bool:
    """Whether a resource with these inputs holds data (a database, a bucket, a data volume):
    what a summary flags when it is replaced or deleted."""
    return is_data(Resource(type=resource_type, name="", inputs=policy_value(inputs or {})))


def blocking(violations: Iterable[Violation]) -> list[Violation]:
    """The mandatory violations: any one fails the command."""
    return [v for v in violations if v.level == "mandatory"]


def render(stage: str, violations: Iterable[Violation]) -> list[str]:
    """Lines for the terminal: one per violation, with its resource, policy and fix."""
    lines: list[str] = []
    for v in violations:
        label = "policy violation" if v.level == "mandatory" else "policy warning"
        lines.append(f"{label}: {stage}: [{v.policy}] {v.type} {v.message}")
        lines.append(f"    fix: {v.fix}")
    return lines


def stage_names(stacks: Mapping[str, Any]) -> dict[str, str]:
    """Stack -> its `stageline:stage` value (an ephemeral copy's stage is not its stack name)."""
    names: dict[str, str] = {}
    for name, stack in stacks.items():
        stage = getattr(stack, "values", {}).get("stage")
        names[name] = stage if isinstance(stage, str) and stage else name
    return names


def widened(
    resource_type: str,
    urn: str,
    old_inputs: Mapping[str, Any] | None,
    new_inputs: Mapping[str, Any] | None,
) -> list[Widening]:
    """What a change to one resource (engine event inputs, before and after) widens: inbound
    sources and ports, or IAM grants. Empty when it widens nothing."""

    def resource(inputs: Mapping[str, Any] | None) -> Resource | None:
        if inputs is None:
            return None
        return Resource(type=resource_type, name="", inputs=policy_value(inputs), urn=urn)

    return widenings(resource(old_inputs), resource(new_inputs))
