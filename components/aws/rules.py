"""Limits of AWS services, checked before any resource is registered. Imports no AWS SDK."""

from __future__ import annotations

import re

from components.aws.sizes import EC2_SIZES, RDS_SIZES, instance_type_problem, nearest_type
from components.errors import ConfigIssue
from components.naming import stack_name_issues
from components.spec import EnvironmentSpec

# CloudWatch Logs rejects any other retention.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
RDS_STORAGE_GB = (20, 65536)
"""What RDS for PostgreSQL allocates on General Purpose (gp3) storage, in GiB."""

AUTONAME_SUFFIX = 8
"""The "-" and 7 random characters pulumi-aws appends to a logical name."""
NAMED_CHILDREN: tuple[tuple[str, str, int], ...] = (
    # (what, the suffix the components add to the stack name, the service's longest name)
    ("S3 bucket", "-storage-bucket", 63),
    ("IAM role", "-compute-role", 64),
    ("RDS instance", "-database-pg", 63),
)
"""The auto-named children with the tightest limits (tests/unit/test_bad_input_clouds.py
plans a stack of MAX_STACK_LENGTH and checks every auto-name against its limit)."""
MAX_STACK_LENGTH = min(limit - len(suffix) - AUTONAME_SUFFIX for _, suffix, limit in NAMED_CHILDREN)
# S3 bucket and RDS instance names: lowercase letters, digits and single hyphens, starting with a
# letter (RDS) and ending with a letter or digit.
STACK_NAME = re.compile(r"[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]|[a-z]")


def stack_name_problem(stack: str) -> str | None:
    """Why `stack` cannot prefix AWS resource names, or None when it can."""
    if not STACK_NAME.fullmatch(stack):
        return (
            "S3 bucket and RDS instance names take only lowercase letters, digits and single "
            "hyphens, starting with a letter"
        )
    if len(stack) > MAX_STACK_LENGTH:
        what, suffix, limit = min(NAMED_CHILDREN, key=lambda c: c[2] - len(c[1]) - AUTONAME_SUFFIX)
        return (
            f"{len(stack)} characters make the {what} name {stack}{suffix} plus "
            f"{AUTONAME_SUFFIX} random characters longer than AWS's {limit}"
        )
    return None


def validate(spec: EnvironmentSpec, region: str, stack: str) -> list[ConfigIssue]:
    # Resource names are auto-names prefixed by the stack name.
    issues = stack_name_issues(stack, stack_name_problem(stack), "AWS", MAX_STACK_LENGTH)
    if spec.network.zone_count < 2:
        issues.append(
            ConfigIssue(
                "network.zoneCount",
                spec.network.zone_count,
                "an RDS subnet group needs subnets in at least 2 zones",
                "set network.zoneCount to 2 or more on aws",
            )
        )
    if spec.observability.log_retention_days not in LOG_RETENTION_DAYS:
        nearest = min(
            LOG_RETENTION_DAYS, key=lambda d: abs(d - spec.observability.log_retention_days)
        )
        issues.append(
            ConfigIssue(
                "observability.logRetentionDays",
                spec.observability.log_retention_days,
                "CloudWatch Logs does not accept this retention",
                f"use {nearest}, or another of {', '.join(map(str, LOG_RETENTION_DAYS))}",
            )
        )
    low, high = RDS_STORAGE_GB
    if not low <= spec.database.storage_gb <= high:
        issues.append(
            ConfigIssue(
                "database.storageGb",
                spec.database.storage_gb,
                f"RDS for PostgreSQL on gp3 storage allocates {low} to {high} GiB",
                f"set database.storageGb to {min(max(spec.database.storage_gb, low), high)} "
                f"(within {low}..{high}) on aws",
            )
        )
    return issues + _validate_overrides(spec)


def _validate_overrides(spec: EnvironmentSpec) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    checks = [
        ("compute.sku", spec.compute.sku, "", EC2_SIZES, "EC2 instance type", "m6i.large"),
        ("database.sku", spec.database.sku, "db.", RDS_SIZES, "RDS class", "db.m6g.large"),
    ]
    for key, value, prefix, sizes, what, example in checks:
        problem = instance_type_problem(value, prefix, sizes) if value is not None else None
        if problem:
            close = nearest_type(str(value), prefix, sizes)
            hint = f"did you mean {close}? " if close else f"use e.g. {example}; "
            families = ", ".join(sorted(sizes))
            issues.append(
                ConfigIssue(
                    key,
                    value,
                    f"not an {what} stageline knows ({problem})",
                    f"{hint}families: {families}; or remove {key} to use {key.split('.')[0]}.size",
                )
            )
    return issues
