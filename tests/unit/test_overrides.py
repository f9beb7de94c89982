"""Per-target overrides reach the resources, and targets without them refuse them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.aws.sizes import EC2_SIZES, EC2_TYPES, RDS_CLASSES, RDS_SIZES, catalogue
from components.errors import ConfigError
from components.gcp.sizes import MACHINE_CATALOGUE, MACHINE_TYPES, SQL_TIERS, sql_tier_problem
from components.spec import EnvironmentSpec, parse_spec
from components.targets import validate_for_target
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


# --- catalogues: only shapes that exist ----------------------------------------------------------

# (target, key, value, the suggestion the fix must carry); each value has a real family, so only
# the family/size check can reject it.
NONEXISTENT_SHAPES = [
    ("aws", "compute.sku", "t3.metal", "did you mean t3.2xlarge?"),
    ("aws", "compute.sku", "m6g.24xlarge", "did you mean m6g.16xlarge?"),
    ("aws", "compute.sku", "c5.8xlarge", "did you mean c5.9xlarge?"),
    ("aws", "compute.sku", "m5a.metal", "did you mean m5a.24xlarge?"),
    ("aws", "database.sku", "db.t4g.nano", "did you mean db.t4g.micro?"),
    ("aws", "database.sku", "db.m6g.24xlarge", "did you mean db.m6g.16xlarge?"),
    ("aws", "database.sku", "db.r6g.metal", "did you mean db.r6g.16xlarge?"),
    ("gcp", "compute.sku", "n1-highcpu-1", "did you mean n1-highcpu-2?"),
    ("gcp", "compute.sku", "e2-highmem-32", "did you mean e2-highmem-16?"),
    ("gcp", "compute.sku", "n2-highcpu-128", "did you mean n2-highcpu-96?"),
    ("gcp", "compute.sku", "n2d-highmem-224", "did you mean n2d-highmem-96?"),
    ("gcp", "database.sku", "db-custom-1-1024", "db-custom-2-7680"),
    ("azure", "compute.sku", "Standard_D2s_v4", "did you mean Standard_D2s_v5?"),
    ("azure", "database.sku", "Standard_D2s_v5", "did you mean Standard_D2ds_v5?"),
]

# Neighbours of the shapes above that do exist: the same rules must accept them.
EXISTING_SHAPES = [
    ("aws", "compute.sku", "t3.2xlarge"),
    ("aws", "compute.sku", "m6g.16xlarge"),
    ("aws", "compute.sku", "c5.9xlarge"),
    ("aws", "compute.sku", "m5.metal"),
    ("aws", "compute.sku", "m7i.metal-48xl"),
    ("aws", "database.sku", "db.t4g.micro"),
    ("aws", "database.sku", "db.m6i.32xlarge"),
    ("gcp", "compute.sku", "n1-standard-1"),
    ("gcp", "compute.sku", "e2-highmem-16"),
    ("gcp", "compute.sku", "n2-highmem-128"),
    ("gcp", "database.sku", "db-custom-1-3840"),
    ("azure", "compute.sku", "Standard_E20as_v5"),
    ("azure", "database.sku", "Standard_E20s_v3"),
]

REGIONS = {"aws": "us-east-2", "gcp": "europe-west1", "azure": "westeurope"}
STACKS = {"aws": "qa", "gcp": "sandbox-gcp", "azure": "sandbox-azure"}


def _target_spec(target: str, key: str, value: str) -> EnvironmentSpec:
    section, field = key.split(".")
    raw: dict[str, dict[str, object]] = {
        "network": {"cidr": "10.30.0.0/16"},
        "database": {"backupRetentionDays": 7},
        "observability": {"logRetentionDays": 30},
    }
    raw.setdefault(section, {})[field] = value
    spec, issues = parse_spec(raw)
    assert spec is not None, issues
    return spec


@pytest.mark.parametrize(
    ("target", "key", "value", "hint"), NONEXISTENT_SHAPES, ids=[c[2] for c in NONEXISTENT_SHAPES]
)
def test_a_shape_that_does_not_exist_is_refused(
    target: str, key: str, value: str, hint: str
) -> None:
    issues = validate_for_target(
        target, _target_spec(target, key, value), REGIONS[target], STACKS[target]
    )
    assert [i.key for i in issues] == [key], [i.render() for i in issues]
    assert issues[0].value == value
    assert hint in issues[0].fix, issues[0].render()


@pytest.mark.parametrize(
    ("target", "key", "value"), EXISTING_SHAPES, ids=[c[2] for c in EXISTING_SHAPES]
)
def test_a_shape_that_exists_is_accepted(target: str, key: str, value: str) -> None:
    issues = validate_for_target(
        target, _target_spec(target, key, value), REGIONS[target], STACKS[target]
    )
    assert issues == [], [i.render() for i in issues]


def test_every_size_class_is_in_its_catalogue() -> None:
    assert set(EC2_TYPES.values()) <= set(catalogue("", EC2_SIZES))
    assert set(RDS_CLASSES.values()) <= set(catalogue("db.", RDS_SIZES))
    assert set(MACHINE_TYPES.values()) <= MACHINE_CATALOGUE
    assert all(sql_tier_problem(tier) is None for tier in SQL_TIERS.values())


def test_a_nonexistent_shape_stops_the_program(plan_edited: Callable[..., StagePlan]) -> None:
    plan = plan_edited("qa", {"qa": {"compute.sku": "t3.metal"}})
    assert isinstance(plan.error, ConfigError), plan.error
    assert "stageline:compute.sku = 't3.metal'" in str(plan.error)
    assert [r.type for r in plan.resources] == ["pulumi:pulumi:Stack"]
