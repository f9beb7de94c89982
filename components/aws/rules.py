"""Limits of AWS services, checked before any resource is registered. Imports no AWS SDK."""

from __future__ import annotations

from components.aws.sizes import EC2_FAMILIES, RDS_FAMILIES, instance_type_problem
from components.errors import ConfigIssue
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
RDS_MIN_STORAGE_GB = 20


def validate(spec: EnvironmentSpec, region: str, stack: str) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
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
    if spec.database.storage_gb < RDS_MIN_STORAGE_GB:
        issues.append(
            ConfigIssue(
                "database.storageGb",
                spec.database.storage_gb,
                f"RDS PostgreSQL needs at least {RDS_MIN_STORAGE_GB} GiB",
                f"set database.storageGb to {RDS_MIN_STORAGE_GB} or more",
            )
        )
    return issues + _validate_overrides(spec)


def _validate_overrides(spec: EnvironmentSpec) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    checks = [
        ("compute.sku", spec.compute.sku, "", EC2_FAMILIES, "EC2 instance type", "m6i.large"),
        ("database.sku", spec.database.sku, "db.", RDS_FAMILIES, "RDS class", "db.m6g.large"),
    ]
    for key, value, prefix, families, what, example in checks:
        problem = instance_type_problem(value, prefix, families) if value is not None else None
        if problem:
            issues.append(
                ConfigIssue(
                    key,
                    value,
                    f"not an {what} stageline knows ({problem})",
                    f"use e.g. {example} (families: {', '.join(sorted(families))}), or remove "
                    f"{key} to use {key.split('.')[0]}.size",
                )
            )
    # Overrides another target reads would be ignored here; say so instead.
    foreign = [
        ("storage.accountName", spec.storage.account_name, "an Azure storage account", "azure"),
        ("database.instanceName", spec.database.instance_name, "a Cloud SQL instance", "gcp"),
    ]
    issues += [
        ConfigIssue(
            key, value, f"names {what}, which only the {target} target has", f"remove {key} on aws"
        )
        for key, value, what, target in foreign
        if value is not None
    ]
    return issues
