"""Limits of GCP services, checked before any resource is registered. Imports no GCP SDK."""

from __future__ import annotations

import ipaddress

from components.errors import ConfigIssue
from components.gcp.addressing import MIN_SERVICE_RANGE_PREFIX, service_range
from components.gcp.naming import MAX_STACK_LENGTH, stack_name_problem
from components.gcp.sizes import MACHINE_CATALOGUE, nearest_machine_type, sql_tier_problem
from components.naming import stack_name_issues
from components.spec import MAX_PREFIX, MIN_PREFIX, EnvironmentSpec, parse_private_cidr

LOG_RETENTION_DAYS = (1, 3650)
"""What a Cloud Logging bucket keeps."""
SQL_STORAGE_GB = (10, 65536)
"""What a Cloud SQL instance's disk holds: 10 GB to 64 TB."""


def validate(spec: EnvironmentSpec, region: str, stack: str) -> list[ConfigIssue]:
    # Most resource names are auto-names prefixed by the stack name.
    issues = stack_name_issues(stack, stack_name_problem(stack), "GCP", MAX_STACK_LENGTH)

    machine = spec.compute.sku
    if machine is not None and machine not in MACHINE_CATALOGUE:
        close = nearest_machine_type(str(machine))
        issues.append(
            ConfigIssue(
                "compute.sku",
                machine,
                "not a GCE machine type stageline knows",
                (f"did you mean {close}? " if close else "")
                + "use a type such as e2-small, n2-standard-4, n2d-highmem-8 or c3-standard-8 "
                "(e2, n1, n2, n2d, n4, c3, t2d families), or remove compute.sku to use "
                "compute.size",
            )
        )
    tier = spec.database.sku
    tier_problem = sql_tier_problem(tier) if tier is not None else None
    if tier_problem:
        issues.append(
            ConfigIssue(
                "database.sku",
                tier,
                f"not a Cloud SQL tier stageline can use: {tier_problem}",
                "use e.g. db-custom-2-7680, or remove database.sku to use database.size",
            )
        )
    low, high = SQL_STORAGE_GB
    if not low <= spec.database.storage_gb <= high:
        issues.append(
            ConfigIssue(
                "database.storageGb",
                spec.database.storage_gb,
                f"a Cloud SQL disk holds {low} GB to {high} GB (64 TB)",
                f"set database.storageGb to {min(max(spec.database.storage_gb, low), high)} "
                f"(within {low}..{high}) on gcp",
            )
        )
    reserved = _service_range(spec)
    if reserved is not None and reserved.prefixlen > MIN_SERVICE_RANGE_PREFIX:
        wider = _prefix(spec) - (reserved.prefixlen - MIN_SERVICE_RANGE_PREFIX)
        issues.append(
            ConfigIssue(
                "network.cidr",
                spec.network.cidr,
                f"leaves Cloud SQL a /{reserved.prefixlen} for private service access "
                f"({reserved}), and it needs at least a /{MIN_SERVICE_RANGE_PREFIX}",
                f"widen network.cidr to a /{wider} or larger, or use fewer zones",
            )
        )

    low, high = LOG_RETENTION_DAYS
    days = spec.observability.log_retention_days
    if not low <= days <= high:
        issues.append(
            ConfigIssue(
                "observability.logRetentionDays",
                days,
                f"a Cloud Logging bucket keeps logs {low} to {high} days",
                f"set observability.logRetentionDays to {min(max(days, low), high)} on gcp",
            )
        )
    return issues


def _prefix(spec: EnvironmentSpec) -> int:
    return ipaddress.ip_network(spec.network.cidr).prefixlen


def _service_range(spec: EnvironmentSpec) -> ipaddress.IPv4Network | None:
    # Only a stage network the common rules accept: for any other (no prefix, too wide or too
    # narrow) the user already has the network.cidr issue, and a second one would mislead.
    net, problems = parse_private_cidr("network.cidr", spec.network.cidr)
    if net is None or problems or "/" not in spec.network.cidr:
        return None
    if not MIN_PREFIX <= net.prefixlen <= MAX_PREFIX:
        return None
    try:
        return service_range(spec.network.cidr, spec.network.zone_count)
    except ValueError:
        # A malformed CIDR or zone count is reported by the common validation already.
        return None
