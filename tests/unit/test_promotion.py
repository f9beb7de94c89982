"""Promotion by outputs: a stage deploys its upstream's release unless it pins one."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from components.contract import SCHEMA_VERSION
from stageline.plan.runner import StagePlan, plain_exports
from stageline.plan.runner import unwrap_secrets as plain
from stageline.promotion import PromotionError
from stageline.revision import template_revision
from tests.unit.planned import one

HOTFIX = {"appVersion": "2.3.4", "artifact": "ghcr.io/acme/shop:2.3.4"}


def upstream_with(repo_plans: dict[str, StagePlan], stage: str, **changes: Any) -> dict[str, Any]:
    outputs = plain_exports(repo_plans[stage].exports)
    outputs.update(changes)
    return outputs


def release_of(plan: StagePlan) -> dict[str, str]:
    assert plan.ok, plan.error
    return plain(plan.exports["release"])


@pytest.mark.parametrize(
    ("stage", "upstream"),
    [("test", "dev"), ("ci", "dev"), ("qa", "test"), ("staging", "qa"), ("prod", "staging")],
)
def test_each_stage_deploys_its_upstreams_release(
    repo_plans: dict[str, StagePlan], stage: str, upstream: str
) -> None:
    assert release_of(repo_plans[stage]) == release_of(repo_plans[upstream])


def test_downstream_deploys_what_upstream_exports(
    repo_plans: dict[str, StagePlan], plan_edited: Callable[..., StagePlan]
) -> None:
    verified = {**HOTFIX, "templateRevision": template_revision()}
    given = {"test": upstream_with(repo_plans, "test", release=verified)}
    plan = plan_edited("qa", {}, given)
    assert release_of(plan) == verified
    lt = one(plan, "aws:ec2/launchTemplate:LaunchTemplate")
    assert HOTFIX["artifact"] in base64.b64decode(lt.inputs["userData"]).decode(), lt.urn
    asg_tags = {
        t["key"]: t["value"] for t in one(plan, "aws:autoscaling/group:Group").inputs["tags"]
    }
    assert asg_tags["stageline-release"] == "2.3.4"
    assert not plan.warnings, plan.warnings


def test_a_pin_overrides_the_upstream(
    repo_plans: dict[str, StagePlan], plan_edited: Callable[..., StagePlan]
) -> None:
    rollback = {"appVersion": "0.9.1", "artifact": "ghcr.io/acme/shop:0.9.1"}
    verified = {**HOTFIX, "templateRevision": template_revision()}
    given = {"staging": upstream_with(repo_plans, "staging", release=verified)}
    plan = plan_edited("prod", {"prod": {"release": rollback}}, given)
    release = release_of(plan)
    assert release["appVersion"] == "0.9.1", release
    assert release["artifact"] == rollback["artifact"], release
    assert any("pinned" in w and "staging" in w for w in plan.warnings), plan.warnings
    # A pinned stage does not read its upstream at all: a hotfix must not depend on it.
    assert not [r for r in plan.resources if r.type == "pulumi:pulumi:StackReference"]


def test_template_drift_is_warned(
    repo_plans: dict[str, StagePlan], plan_edited: Callable[..., StagePlan]
) -> None:
    old = {**HOTFIX, "templateRevision": "tpl-000000000000"}
    plan = plan_edited("qa", {}, {"test": upstream_with(repo_plans, "test", release=old)})
    assert release_of(plan)["templateRevision"] == "tpl-000000000000"
    assert any("tpl-000000000000" in w for w in plan.warnings), plan.warnings


def _assert_stopped_before_resources(plan: StagePlan) -> None:
    registered = [r.type for r in plan.resources]
    assert registered == ["pulumi:pulumi:Stack", "pulumi:pulumi:StackReference"], registered


def test_missing_upstream_output_fails_with_the_fix(plan_edited: Callable[..., StagePlan]) -> None:
    plan = plan_edited("qa", {}, {"test": {}})
    assert isinstance(plan.error, PromotionError), plan.error
    message = str(plan.error)
    assert "stage 'qa'" in message
    assert "'organization/stageline/test'" in message
    assert "stageline up test" in message
    _assert_stopped_before_resources(plan)


def test_incompatible_upstream_schema_fails(
    repo_plans: dict[str, StagePlan], plan_edited: Callable[..., StagePlan]
) -> None:
    given = {"test": upstream_with(repo_plans, "test", schemaVersion="2.0")}
    plan = plan_edited("qa", {}, given)
    assert isinstance(plan.error, PromotionError), plan.error
    message = str(plan.error)
    assert "'2.0'" in message and SCHEMA_VERSION in message and "stageline up test" in message
    _assert_stopped_before_resources(plan)


def test_newer_minor_schema_is_accepted(
    repo_plans: dict[str, StagePlan], plan_edited: Callable[..., StagePlan]
) -> None:
    major = SCHEMA_VERSION.split(".")[0]
    given = {"test": upstream_with(repo_plans, "test", schemaVersion=f"{major}.7")}
    assert plan_edited("qa", {}, given).ok


def test_malformed_upstream_release_fails(
    repo_plans: dict[str, StagePlan], plan_edited: Callable[..., StagePlan]
) -> None:
    given = {"test": upstream_with(repo_plans, "test", release={"appVersion": "1.0.0"})}
    plan = plan_edited("qa", {}, given)
    assert isinstance(plan.error, PromotionError), plan.error
    assert "artifact" in str(plan.error)
    _assert_stopped_before_resources(plan)
