"""Per-target overrides reach the resources, and targets without them refuse them."""

from __future__ import annotations

from collections.abc import Callable

from components.errors import ConfigError
from stageline.plan.runner import StagePlan
from tests.unit.planned import one


def test_aws_skus_replace_the_size_classes(plan_edited: Callable[..., StagePlan]) -> None:
    plan = plan_edited("qa", {"qa": {"compute.sku": "c6i.large", "database.sku": "db.r6g.large"}})
    assert plan.ok, plan.error
    lt = one(plan, "aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["instanceType"] == "c6i.large", lt.urn
    db = one(plan, "aws:rds/instance:Instance")
    assert db.inputs["instanceClass"] == "db.r6g.large", db.urn


def test_libvirt_refuses_cloud_only_overrides(plan_edited: Callable[..., StagePlan]) -> None:
    plan = plan_edited("local", {"local": {"compute.sku": "c6i.large"}})
    assert isinstance(plan.error, ConfigError), plan.error
    assert "stageline:compute.sku = 'c6i.large'" in str(plan.error)
    assert [r.type for r in plan.resources] == ["pulumi:pulumi:Stack"]
