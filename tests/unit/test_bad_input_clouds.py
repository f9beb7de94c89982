"""Bad input on each cloud stops the real program before any resource is registered.

Like test_bad_input.py, each case edits a copy of the repo's stack files and plans one stage
under mocks; the error must name the key, the value and a fix, and only the stack may exist.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.aws.rules import AUTONAME_SUFFIX as AWS_AUTONAME_SUFFIX
from components.aws.rules import MAX_STACK_LENGTH as AWS_MAX_STACK
from components.azure.naming import MAX_STACK_LENGTH as AZURE_MAX_STACK
from components.errors import ConfigError
from components.gcp.naming import MAX_STACK_LENGTH as GCP_MAX_STACK
from tests.conftest import edit_stack_file, plan_folder
from tests.unit.test_bad_input import STACK_ONLY, run_program_alone

AZ = "sandbox-azure"
GC = "sandbox-gcp"

# (case, stage, edits of that stage's stack file, key in message, value fragment in message)
CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    # --- azure -----------------------------------------------------------------------------
    ("azure: region of gcp", AZ, {"region": "europe-west1"}, "stageline:region", "'europe-west1'"),
    ("azure: unknown region", AZ, {"region": "westeurope2"}, "stageline:region", "'westeurope2'"),
    ("azure: unknown VM size", AZ, {"compute.sku": "Standard_Q9"}, "compute.sku", "'Standard_Q9'"),
    ("azure: AWS type as VM size", AZ, {"compute.sku": "m6i.large"}, "compute.sku", "'m6i.large'"),
    (
        "azure: unknown database SKU",
        AZ,
        {"database.sku": "db.m6g.large"},
        "stageline:database.sku",
        "'db.m6g.large'",
    ),
    (
        "azure: HA on a Burstable tier",
        AZ,
        {"database.highAvailability": True},
        "stageline:database.size",
        "'small'",
    ),
    (
        "azure: storage account name too long",
        AZ,
        {"azure.storageAccountName": "acmeshopsandboxstorage2024"},
        "stageline:azure.storageAccountName",
        "'acmeshopsandboxstorage2024'",
    ),
    (
        "azure: storage account name too short",
        AZ,
        {"azure.storageAccountName": "ab"},
        "stageline:azure.storageAccountName",
        "'ab'",
    ),
    (
        "azure: storage account name with capitals and hyphens",
        AZ,
        {"azure.storageAccountName": "Acme-Shop_01"},
        "stageline:azure.storageAccountName",
        "'Acme-Shop_01'",
    ),
    (
        "azure: storage account name not a string",
        AZ,
        {"azure.storageAccountName": 12345},
        "stageline:azure.storageAccountName",
        "12345",
    ),
    (
        "azure: backups below Flexible Server's minimum",
        AZ,
        {"database.backupRetentionDays": 1},
        "stageline:database.backupRetentionDays",
        "= 1",
    ),
    (
        "azure: log retention below Log Analytics' minimum",
        AZ,
        {"observability.logRetentionDays": 7},
        "stageline:observability.logRetentionDays",
        "= 7",
    ),
    (
        "azure: storage above Flexible Server's 32 TiB disk",
        AZ,
        {"database.storageGb": 32768},
        "stageline:database.storageGb",
        "= 32768",
    ),
    (
        "azure: a GCP-only section",
        AZ,
        {"gcp.databaseInstanceName": "shop-pg"},
        "stageline:gcp",
        "'shop-pg'",
    ),
    # --- gcp -------------------------------------------------------------------------------
    ("gcp: region of azure", GC, {"region": "westeurope"}, "stageline:region", "'westeurope'"),
    ("gcp: unknown region", GC, {"region": "europe-west9"}, "stageline:region", "'europe-west9'"),
    (
        "gcp: unknown machine type",
        GC,
        {"compute.sku": "n2-standard-3"},
        "stageline:compute.sku",
        "'n2-standard-3'",
    ),
    (
        "gcp: unknown Cloud SQL tier",
        GC,
        {"database.sku": "db-n1-standard-9"},
        "stageline:database.sku",
        "'db-n1-standard-9'",
    ),
    (
        "gcp: custom tier with an odd vCPU count",
        GC,
        {"database.sku": "db-custom-3-7680"},
        "stageline:database.sku",
        "'db-custom-3-7680'",
    ),
    (
        "gcp: Enterprise Plus tier",
        GC,
        {"database.sku": "db-perf-optimized-N-2"},
        "stageline:database.sku",
        "'db-perf-optimized-N-2'",
    ),
    (
        "gcp: instance name not RFC 1035",
        GC,
        {"gcp.databaseInstanceName": "Shop_PG"},
        "stageline:gcp.databaseInstanceName",
        "'Shop_PG'",
    ),
    (
        "gcp: instance name over 63 characters",
        GC,
        {"gcp.databaseInstanceName": "shop-" + "p" * 60},
        "stageline:gcp.databaseInstanceName",
        "'shop-ppp",
    ),
    (
        "gcp: instance name ending in a hyphen",
        GC,
        {"gcp.databaseInstanceName": "shop-pg-"},
        "stageline:gcp.databaseInstanceName",
        "'shop-pg-'",
    ),
    (
        "gcp: network too small for private service access",
        GC,
        {"network.cidr": "10.80.0.0/22"},
        "stageline:network.cidr",
        "'10.80.0.0/22'",
    ),
    (
        "gcp: an Azure-only section",
        GC,
        {"azure.storageAccountName": "acmeshop01"},
        "stageline:azure",
        "'acmeshop01'",
    ),
    (
        "gcp: storage above Cloud SQL's 64 TB",
        GC,
        {"database.storageGb": 65537},
        "stageline:database.storageGb",
        "= 65537",
    ),
    # --- aws, for symmetry ---------------------------------------------------------------------
    (
        "aws: storage above RDS gp3's 64 TiB",
        "qa",
        {"database.storageGb": 999999999},
        "stageline:database.storageGb",
        "= 999999999",
    ),
    (
        "aws: storage just above RDS gp3's 65536 GiB",
        "qa",
        {"database.storageGb": 65537},
        "stageline:database.storageGb",
        "= 65537",
    ),
    (
        "aws: unknown instance family",
        "qa",
        {"compute.sku": "q9.large"},
        "compute.sku",
        "'q9.large'",
    ),
    ("aws: unknown size", "qa", {"compute.sku": "m6i.huge"}, "stageline:compute.sku", "'m6i.huge'"),
    ("aws: Azure size", "qa", {"compute.sku": "Standard_B2s"}, "compute.sku", "'Standard_B2s'"),
    (
        "aws: unknown RDS class",
        "qa",
        {"database.sku": "db.x9.large"},
        "stageline:database.sku",
        "'db.x9.large'",
    ),
    (
        "aws: an Azure-only section",
        "qa",
        {"azure.storageAccountName": "acmeshop01"},
        "stageline:azure",
        "'acmeshop01'",
    ),
]


def assert_rejected_before_any_resource(folder: Path, stage: str, key: str, fragment: str) -> str:
    plan = run_program_alone(folder, stage)
    assert isinstance(plan.error, ConfigError), f"expected a ConfigError, got {plan.error!r}"
    message = str(plan.error)
    assert key in message, message
    assert fragment in message, message
    assert "fix:" in message, message
    assert [r.type for r in plan.resources] == STACK_ONLY, [r.urn for r in plan.resources]
    return message


@pytest.mark.parametrize(
    ("stage", "edits", "key", "fragment"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_bad_input_is_rejected_before_any_resource(
    stacks_copy: Path, stage: str, edits: dict[str, Any], key: str, fragment: str
) -> None:
    edit_stack_file(stacks_copy / f"Pulumi.{stage}.yaml", edits)
    assert_rejected_before_any_resource(stacks_copy, stage, key, fragment)


def _copy_stack(folder: Path, stage: str, stack: str, edits: dict[str, Any] | None = None) -> None:
    """An ephemeral copy of `stage` named `stack`, as `pulumi stack init --copy-config-from`."""
    path = folder / f"Pulumi.{stack}.yaml"
    shutil.copy(folder / f"Pulumi.{stage}.yaml", path)
    if edits:
        edit_stack_file(path, edits)


@pytest.mark.parametrize(
    ("stage", "limit"),
    [(AZ, AZURE_MAX_STACK), (GC, GCP_MAX_STACK), ("ci", AWS_MAX_STACK)],
    ids=["azure", "gcp", "aws"],
)
def test_a_stack_name_too_long_for_the_cloud_is_rejected(
    stacks_copy: Path, stage: str, limit: int
) -> None:
    stack = f"{stage}-{'x' * (limit - len(stage))}"
    assert len(stack) == limit + 1
    _copy_stack(stacks_copy, stage, stack)
    message = assert_rejected_before_any_resource(stacks_copy, stack, "stageline:stage", stack)
    assert f"at most {limit}" in message, message


@pytest.mark.parametrize(
    ("stage", "suffix"),
    [(AZ, "PR_7"), (GC, "PR_7"), ("ci", "PR7"), ("ci", "pr_7"), ("ci", "-7")],
    ids=["azure", "gcp", "aws: capitals", "aws: underscore", "aws: double hyphen"],
)
def test_a_stack_name_breaking_the_cloud_naming_rules_is_rejected(
    stacks_copy: Path, stage: str, suffix: str
) -> None:
    stack = f"{stage}-{suffix}"
    _copy_stack(stacks_copy, stage, stack)
    assert_rejected_before_any_resource(stacks_copy, stack, "stageline:stage", f"'{stack}'")


def test_a_long_stage_name_is_rejected_on_gcp(stacks_copy: Path) -> None:
    """A valid stage name (up to 40 characters) can still make GCP names over 63."""
    stage = "sandbox-gcp-for-the-payments-team-europe"
    assert GCP_MAX_STACK < len(stage) <= 40
    data = yaml.safe_load((stacks_copy / f"Pulumi.{GC}.yaml").read_text())
    data["config"]["stageline:stage"] = stage
    (stacks_copy / f"Pulumi.{stage}.yaml").write_text(yaml.safe_dump(data))
    assert_rejected_before_any_resource(stacks_copy, stage, "stageline:stage", f"'{stage}'")


def test_every_problem_on_a_cloud_is_reported_at_once(stacks_copy: Path) -> None:
    edit_stack_file(
        stacks_copy / f"Pulumi.{AZ}.yaml",
        {
            "compute.sku": "Standard_Q9",
            "azure.storageAccountName": "Bad_Name",
            "observability.logRetentionDays": 7,
        },
    )
    plan = run_program_alone(stacks_copy, AZ)
    assert isinstance(plan.error, ConfigError), plan.error
    keys = {issue.key for issue in plan.error.issues}
    wanted = {"compute.sku", "azure.storageAccountName", "observability.logRetentionDays"}
    assert wanted <= keys, keys


# Longest physical names AWS accepts for the auto-named types stageline registers.
AWS_NAME_LIMITS = {
    "aws:s3/bucket:Bucket": 63,
    "aws:iam/role:Role": 64,
    "aws:rds/instance:Instance": 63,
    "aws:iam/instanceProfile:InstanceProfile": 128,
    "aws:ec2/launchTemplate:LaunchTemplate": 128,
    "aws:lb/loadBalancer:LoadBalancer": 32,
    "aws:lb/targetGroup:TargetGroup": 32,
}
AWS_LOWERCASE_ONLY = {"aws:s3/bucket:Bucket", "aws:rds/instance:Instance"}
AWS_EXPLICIT_NAMES = {"bucket", "identifier", "name"}


def test_the_longest_allowed_stack_name_fits_every_aws_name(stacks_copy: Path) -> None:
    """MAX_STACK_LENGTH is derived from the children's suffixes: plan a stack that long and
    check every auto-name stageline really registers, plus pulumi-aws's 8 random characters."""
    stack = "ci-" + "x" * (AWS_MAX_STACK - len("ci-"))
    _copy_stack(stacks_copy, "ci", stack)
    plan = next(p for p in plan_folder(stacks_copy, [stack]) if p.stack == stack)
    assert plan.ok, plan.error
    named = [r for r in plan.resources if r.custom and r.type in AWS_NAME_LIMITS]
    assert {"aws:s3/bucket:Bucket", "aws:iam/role:Role", "aws:rds/instance:Instance"} <= {
        r.type for r in named
    }
    longest = 0
    for r in named:
        if AWS_EXPLICIT_NAMES & set(r.inputs):
            continue
        physical = r.name + "-" + "a" * (AWS_AUTONAME_SUFFIX - 1)
        longest = max(longest, len(physical) - AWS_NAME_LIMITS[r.type])
        assert len(physical) <= AWS_NAME_LIMITS[r.type], f"{r.urn}: {len(physical)}"
        if r.type in AWS_LOWERCASE_ONLY:
            assert re.fullmatch(r"[a-z][a-z0-9-]*", physical), r.urn
    # Tight: one character more would not fit the strictest child.
    assert longest == 0, longest
