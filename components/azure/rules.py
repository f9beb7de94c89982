"""Limits of Azure services, checked before any resource is registered. Imports no Azure SDK."""

from __future__ import annotations

import difflib

from components.azure.naming import MAX_STACK_LENGTH, stack_name_problem
from components.azure.sizes import (
    POSTGRES_SKUS,
    POSTGRES_STORAGE_GB,
    POSTGRES_TIERS,
    VM_CATALOGUE,
    postgres_tier,
)
from components.errors import ConfigIssue
from components.naming import stack_name_issues
from components.spec import EnvironmentSpec

LOG_RETENTION_DAYS = (30, 730)
"""What a pay-as-you-go (PerGB2018) Log Analytics workspace keeps."""
BACKUP_RETENTION_DAYS = (7, 35)
"""Flexible Server always keeps backups, for 7 to 35 days."""


def _did_you_mean(value: str, catalogue: frozenset[str]) -> str:
    close = difflib.get_close_matches(value, sorted(catalogue), n=1)
    return f"did you mean {close[0]}? " if close else ""


def validate(spec: EnvironmentSpec, region: str, stack: str) -> list[ConfigIssue]:
    # Most resource names are auto-names prefixed by the stack name.
    issues = stack_name_issues(stack, stack_name_problem(stack), "Azure", MAX_STACK_LENGTH)

    compute_sku = spec.compute.sku
    if compute_sku is not None and compute_sku not in VM_CATALOGUE:
        issues.append(
            ConfigIssue(
                "compute.sku",
                compute_sku,
                "not an Azure VM size stageline knows",
                _did_you_mean(compute_sku, VM_CATALOGUE)
                + "use a size such as Standard_B2s, Standard_D2s_v5, Standard_D4as_v5 or "
                "Standard_E4s_v5 (B, Dsv5, Dasv5, Ddsv5, Esv5, Easv5, Fsv2 families), or remove "
                "compute.sku to use compute.size",
            )
        )

    db_sku = spec.database.sku
    if db_sku is not None and postgres_tier(db_sku) is None:
        issues.append(
            ConfigIssue(
                "database.sku",
                db_sku,
                "not an Azure Database for PostgreSQL Flexible Server SKU stageline knows",
                _did_you_mean(db_sku, frozenset().union(*POSTGRES_TIERS.values()))
                + "use a SKU such as Standard_B2s (Burstable), Standard_D2ds_v5 (General "
                "Purpose) or Standard_E4ds_v5 (Memory Optimized), or remove database.sku to use "
                "database.size",
            )
        )
    tier = postgres_tier(db_sku or POSTGRES_SKUS.get(spec.database.size, ""))
    if spec.database.high_availability and tier == "Burstable":
        key, value = ("database.sku", db_sku) if db_sku else ("database.size", spec.database.size)
        issues.append(
            ConfigIssue(
                key,
                value,
                "a Burstable Flexible Server has no zone-redundant standby, and "
                "database.highAvailability is on",
                "use database.size medium or larger (or a General Purpose database.sku), "
                "or turn highAvailability off",
            )
        )

    if spec.database.storage_gb > POSTGRES_STORAGE_GB[-1]:
        issues.append(
            ConfigIssue(
                "database.storageGb",
                spec.database.storage_gb,
                f"Flexible Server disks stop at {POSTGRES_STORAGE_GB[-1]} GiB",
                f"set database.storageGb to {POSTGRES_STORAGE_GB[-1]} or less",
            )
        )
    low, high = BACKUP_RETENTION_DAYS
    if not low <= spec.database.backup_retention_days <= high:
        issues.append(
            ConfigIssue(
                "database.backupRetentionDays",
                spec.database.backup_retention_days,
                f"Flexible Server keeps backups {low} to {high} days and cannot turn them off",
                f"set database.backupRetentionDays to {low}..{high} on azure",
            )
        )
    low, high = LOG_RETENTION_DAYS
    days = spec.observability.log_retention_days
    if not low <= days <= high:
        issues.append(
            ConfigIssue(
                "observability.logRetentionDays",
                days,
                f"a Log Analytics workspace keeps logs {low} to {high} days",
                f"set observability.logRetentionDays to {min(max(days, low), high)} on azure",
            )
        )
    return issues
