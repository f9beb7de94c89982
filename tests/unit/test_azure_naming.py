"""Azure names: what the stack name may be, and that every derived name fits Azure's rules."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from components.azure.naming import (
    AUTONAME_SUFFIX,
    MAX_STACK_LENGTH,
    dns_label,
    stack_name_problem,
    storage_account_prefix,
)
from components.azure.rules import validate
from components.azure.settings import parse_settings
from components.azure.sizes import (
    POSTGRES_SKUS,
    POSTGRES_TIERS,
    VM_CATALOGUE,
    VM_SIZES,
    postgres_storage_gb,
    postgres_tier,
)
from components.spec import SIZE_CLASSES, parse_spec
from tests.conftest import plan_folder
from tests.unit.planned import of_type


def is_storage_account_name(name: str) -> bool:
    """Azure's documented rule: 3 to 24 characters, lowercase letters and numbers only."""
    return 3 <= len(name) <= 24 and all(c in "abcdefghijklmnopqrstuvwxyz0123456789" for c in name)


# Longest physical names Azure accepts for the auto-named types; others take at least 80.
NAME_LIMITS = {
    "azure-native:dbforpostgresql:Server": 63,
    "azure-native:operationalinsights:Workspace": 63,
    "azure-native:compute:VirtualMachineScaleSet": 64,
    "azure-native:network:VirtualNetwork": 64,
}
LOWERCASE_ONLY = {"azure-native:dbforpostgresql:Server"}
# Inputs that name a resource explicitly, so it is not auto-named.
EXPLICIT_NAMES = {
    "accountName",
    "subnetName",
    "privateZoneName",
    "containerName",
    "configurationName",
    "databaseName",
    "blobServicesName",
    "managementPolicyName",
}


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("sandbox-azure-storage", "sandboxazurestorag"),
        ("CI_PR.42-storage", "cipr42storage"),
        ("---", "stageline"),
        ("x" * 40, "x" * 18),
    ],
)
def test_storage_account_names_are_sanitized(name: str, prefix: str) -> None:
    assert storage_account_prefix(name) == prefix
    # With the 6 random characters the account still meets Azure's rule.
    assert is_storage_account_name(prefix + "a1b2c3"), prefix


@pytest.mark.parametrize(
    ("name", "label"),
    [("sandbox-azure-database", "sandbox-azure-database"), ("CI_PR.7-db", "ci-pr-7-db")],
)
def test_private_dns_zone_labels_are_sanitized(name: str, label: str) -> None:
    assert dns_label(name) == label


@pytest.mark.parametrize(
    ("stack", "ok"),
    [
        ("sandbox-azure", True),
        ("ci-pr-42", True),
        ("s" * MAX_STACK_LENGTH, True),
        ("s" * (MAX_STACK_LENGTH + 1), False),
        ("Sandbox", False),
        ("ci_pr_42", False),
        ("ci-", False),
        ("9lives", False),
    ],
)
def test_stack_names(stack: str, ok: bool) -> None:
    assert (stack_name_problem(stack) is None) is ok


def test_every_size_class_maps_into_the_catalogues() -> None:
    assert set(VM_SIZES) == set(POSTGRES_SKUS) == set(SIZE_CLASSES)
    assert set(VM_SIZES.values()) <= VM_CATALOGUE
    assert all(postgres_tier(sku) for sku in POSTGRES_SKUS.values())
    assert postgres_tier("Standard_D4ds_v5") == "GeneralPurpose"
    assert postgres_tier("Standard_E8ds_v5") == "MemoryOptimized"
    assert not set.intersection(*map(set, POSTGRES_TIERS.values()))


@pytest.mark.parametrize(("requested", "disk"), [(1, 32), (32, 32), (33, 64), (200, 256)])
def test_database_storage_rounds_up_to_a_flexible_server_disk(requested: int, disk: int) -> None:
    assert postgres_storage_gb(requested) == disk


def _spec(**sections: dict) -> object:
    raw = {
        "network": {"cidr": "10.60.0.0/16"},
        "database": {"backupRetentionDays": 7},
        "observability": {"logRetentionDays": 30},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    spec, issues = parse_spec(raw)
    assert spec is not None, issues
    return spec


@pytest.mark.parametrize(
    ("sections", "keys"),
    [
        ({}, set()),
        ({"compute": {"sku": "Standard_D4as_v5"}, "database": {"sku": "Standard_E4ds_v5"}}, set()),
        ({"compute": {"sku": "t3.micro"}}, {"compute.sku"}),
        ({"database": {"sku": "Standard_B1s"}}, {"database.sku"}),
        ({"database": {"highAvailability": True, "size": "xsmall"}}, {"database.size"}),
        ({"database": {"highAvailability": True, "sku": "Standard_B2ms"}}, {"database.sku"}),
        ({"database": {"highAvailability": True, "size": "medium"}}, set()),
        ({"database": {"storageGb": 40000}}, {"database.storageGb"}),
        ({"database": {"backupRetentionDays": 0}}, {"database.backupRetentionDays"}),
        ({"observability": {"logRetentionDays": 731}}, {"observability.logRetentionDays"}),
    ],
)
def test_azure_rules(sections: dict, keys: set[str]) -> None:
    issues = validate(_spec(**sections), "westeurope", stack="sandbox-azure")  # type: ignore[arg-type]
    assert {i.key for i in issues} == keys, [i.render() for i in issues]
    assert all(i.fix for i in issues)


@pytest.mark.parametrize(
    ("section", "keys"),
    [
        (None, set()),
        ({"storageAccountName": "acmeshop01"}, set()),
        ({"storageAccountName": "x" * 25}, {"azure.storageAccountName"}),
        ({"storageAccountName": 12345}, {"azure.storageAccountName"}),
        ({"storageAcountName": "acmeshop01"}, {"azure.storageAcountName"}),
        ("acmeshop01", {"azure"}),
    ],
)
def test_azure_settings(section: object, keys: set[str]) -> None:
    settings, issues = parse_settings(section)
    assert {i.key for i in issues} == keys, [i.render() for i in issues]
    assert (settings is None) == bool(keys), settings
    assert all(i.fix for i in issues)


def test_a_misspelt_azure_setting_suggests_the_known_one() -> None:
    (issue,) = parse_settings({"storageAcountName": "acmeshop01"})[1]
    assert "did you mean storageAccountName?" in issue.fix, issue.render()


def test_the_longest_allowed_stack_name_fits_every_azure_name(stacks_copy: Path) -> None:
    stack = "sandbox-azure-" + "x" * (MAX_STACK_LENGTH - len("sandbox-azure-"))
    assert len(stack) == MAX_STACK_LENGTH
    shutil.copy(stacks_copy / "Pulumi.sandbox-azure.yaml", stacks_copy / f"Pulumi.{stack}.yaml")
    plan = next(p for p in plan_folder(stacks_copy, [stack]) if p.stack == stack)
    assert plan.ok, plan.error
    named = [r for r in plan.resources if r.custom and r.type.startswith("azure-native:")]
    assert len(named) > 30
    for r in named:
        if EXPLICIT_NAMES & set(r.inputs):
            continue
        physical = r.name + "0" * AUTONAME_SUFFIX
        assert len(physical) <= NAME_LIMITS.get(r.type, 80), f"{r.urn}: {len(physical)}"
        if r.type in LOWERCASE_ONLY:
            assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", physical), r.urn
    account = of_type(plan, "azure-native:storage:StorageAccount")[0]
    # The account is named from the component (the stack name's letters and digits, cut to
    # leave room for the suffix), plus the mocks' random "a1b2c3".
    assert account.inputs["accountName"] == "sandboxazurexxxxxxa1b2c3", account.urn
    assert is_storage_account_name(account.inputs["accountName"]), account.urn
    zone = of_type(plan, "azure-native:privatedns:PrivateZone")[0]
    assert len(zone.inputs["privateZoneName"].split(".")[0]) <= 63, zone.urn
