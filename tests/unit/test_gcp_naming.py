"""GCP names and labels: what the stack name may be, and that every derived name is RFC 1035."""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import pytest

from components.gcp.addressing import public_ranges, service_range
from components.gcp.naming import (
    AUTONAME_SUFFIX,
    MAX_STACK_LENGTH,
    is_rfc1035,
    label_key,
    label_value,
    labels,
    stack_name_problem,
)
from components.gcp.rules import validate
from components.gcp.settings import parse_settings
from components.gcp.sizes import MACHINE_CATALOGUE, MACHINE_TYPES, SQL_TIERS, sql_tier_problem
from components.network import plan_subnets
from components.spec import SIZE_CLASSES, parse_spec
from tests.conftest import plan_folder
from tests.unit.planned import one

# Types pulumi-gcp auto-names with "-" and 7 characters, refusing anything over 63.
AUTONAMED = {
    f"gcp:compute/{t}"
    for t in (
        "network:Network",
        "subnetwork:Subnetwork",
        "firewall:Firewall",
        "router:Router",
        "routerNat:RouterNat",
        "globalAddress:GlobalAddress",
        "instanceTemplate:InstanceTemplate",
        "regionInstanceGroupManager:RegionInstanceGroupManager",
        "regionAutoscaler:RegionAutoscaler",
    )
} | {"gcp:sql/databaseInstance:DatabaseInstance", "gcp:storage/bucket:Bucket"}


@pytest.mark.parametrize(
    ("value", "label"),
    [("1.0.0", "1-0-0"), ("Sandbox-GCP", "sandbox-gcp"), ("a_b-c", "a_b-c"), ("x" * 70, "x" * 63)],
)
def test_label_values_are_sanitized(value: str, label: str) -> None:
    assert label_value(value) == label


def test_label_keys_start_with_a_letter() -> None:
    assert label_key("stageline-stage") == "stageline-stage"
    assert label_key("9lives") == "k-9lives"
    assert labels({"Stageline-Release": "2.1.0+build.7"}) == {"stageline-release": "2-1-0-build-7"}


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("shop-pg", True),
        ("a", True),
        ("Shop", False),
        ("shop_pg", False),
        ("pg-", False),
        ("1pg", False),
        ("p" * 63, True),
        ("p" * 64, False),
    ],
)
def test_rfc1035(name: str, ok: bool) -> None:
    assert is_rfc1035(name) is ok


@pytest.mark.parametrize(
    ("stack", "ok"),
    [
        ("sandbox-gcp", True),
        ("ci-pr-42", True),
        ("s" * MAX_STACK_LENGTH, True),
        ("s" * (MAX_STACK_LENGTH + 1), False),
        ("ci-PR-42", False),
        ("ci.42", False),
        ("ci-", False),
    ],
)
def test_stack_names(stack: str, ok: bool) -> None:
    assert (stack_name_problem(stack) is None) is ok


@pytest.mark.parametrize(
    ("tier", "ok"),
    [
        ("db-f1-micro", True),
        ("db-g1-small", True),
        ("db-custom-1-3840", True),
        ("db-custom-2-7680", True),
        ("db-custom-96-393216", True),
        ("db-custom-3-7680", False),
        ("db-custom-2-1024", False),
        ("db-custom-2-7681", False),
        ("db-custom-2-14080", False),
        ("db-perf-optimized-N-2", False),
        ("db-n1-standard-1", False),
        ("db.t4g.micro", False),
    ],
)
def test_cloud_sql_tiers(tier: str, ok: bool) -> None:
    assert (sql_tier_problem(tier) is None) is ok


def test_every_size_class_maps_into_the_catalogues() -> None:
    assert set(MACHINE_TYPES) == set(SQL_TIERS) == set(SIZE_CLASSES)
    assert set(MACHINE_TYPES.values()) <= MACHINE_CATALOGUE
    assert all(sql_tier_problem(t) is None for t in SQL_TIERS.values())


@pytest.mark.parametrize(
    ("cidr", "zones", "reserved"),
    [
        ("10.80.0.0/16", 2, "10.80.96.0/19"),
        ("10.90.0.0/20", 2, "10.90.6.0/23"),
        ("10.80.0.0/16", 3, "10.80.80.0/20"),
        ("10.80.0.0/16", 1, "10.80.64.0/18"),
    ],
)
def test_the_service_range_is_the_upper_half_of_the_last_public_range(
    cidr: str, zones: int, reserved: str
) -> None:
    plan = plan_subnets(cidr, zones)
    assert str(service_range(cidr, zones)) == reserved
    used = [*public_ranges(cidr, zones), *plan.private]
    assert not any(service_range(cidr, zones).overlaps(ipaddress.ip_network(u)) for u in used)


def _spec(**sections: dict) -> object:
    raw: dict = {"network": {"cidr": "10.80.0.0/16"}}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    spec, issues = parse_spec(raw)
    assert spec is not None, issues
    return spec


@pytest.mark.parametrize(
    ("sections", "keys"),
    [
        ({}, set()),
        ({"compute": {"sku": "n2d-highmem-8"}, "database": {"sku": "db-custom-4-15360"}}, set()),
        ({"compute": {"sku": "Standard_B2s"}}, {"compute.sku"}),
        ({"database": {"sku": "db-custom-4-1024"}}, {"database.sku"}),
        ({"database": {"storageGb": 5}}, {"database.storageGb"}),
        ({"network": {"cidr": "10.80.0.0/21"}}, set()),
        ({"network": {"cidr": "10.80.0.0/22"}}, {"network.cidr"}),
        ({"network": {"cidr": "10.80.0.0/22", "zoneCount": 1}}, set()),
        ({"observability": {"logRetentionDays": 4000}}, {"observability.logRetentionDays"}),
    ],
)
def test_gcp_rules(sections: dict, keys: set[str]) -> None:
    issues = validate(_spec(**sections), "europe-west1", stack="sandbox-gcp")  # type: ignore[arg-type]
    assert {i.key for i in issues} == keys, [i.render() for i in issues]
    assert all(i.fix for i in issues)


@pytest.mark.parametrize(
    ("section", "keys"),
    [
        (None, set()),
        ({"databaseInstanceName": "shop-prod-pg"}, set()),
        ({"databaseInstanceName": "shop.prod"}, {"gcp.databaseInstanceName"}),
        ({"databaseInstanceName": ["shop"]}, {"gcp.databaseInstanceName"}),
        ({"instanceName": "shop-prod-pg"}, {"gcp.instanceName"}),
    ],
)
def test_gcp_settings(section: object, keys: set[str]) -> None:
    settings, issues = parse_settings(section)
    assert {i.key for i in issues} == keys, [i.render() for i in issues]
    assert (settings is None) == bool(keys), settings
    assert all(i.fix for i in issues)


def test_the_longest_allowed_stack_name_fits_every_gcp_name(stacks_copy: Path) -> None:
    stack = "sandbox-gcp-" + "x" * (MAX_STACK_LENGTH - len("sandbox-gcp-"))
    assert len(stack) == MAX_STACK_LENGTH
    shutil.copy(stacks_copy / "Pulumi.sandbox-gcp.yaml", stacks_copy / f"Pulumi.{stack}.yaml")
    plan = next(p for p in plan_folder(stacks_copy, [stack]) if p.stack == stack)
    assert plan.ok, plan.error
    autonamed = [r for r in plan.resources if r.type in AUTONAMED]
    assert {r.type for r in autonamed} == AUTONAMED
    for r in autonamed:
        physical = f"{r.name.lower()}-{'0' * (AUTONAME_SUFFIX - 1)}"
        assert is_rfc1035(physical), f"{r.urn}: {physical} ({len(physical)} characters)"
    group = one(plan, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager")
    # Instances are named base-xxxx.
    assert is_rfc1035(group.inputs["baseInstanceName"] + "-abcd"), group.urn
