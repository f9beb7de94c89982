"""The typed, validated description of one environment.

Stages differ only by the values here. The sections are frozen pydantic dataclasses of the
config model (components.model): reading a `stageline:<section>` object refuses unknown keys and
wrong types; the `validate_*` functions are pure and return every problem found,
each naming the key, the value and the fix. Nothing in this module touches Pulumi resources.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import Field, StrictStr
from pydantic.dataclasses import dataclass

from components.errors import ConfigIssue
from components.model import (
    MODEL_CONFIG,
    Flag,
    OptionalText,
    Says,
    Text,
    Whole,
    aliases,
    section,
    validate,
)
from components.model import camel as camel  # the stack-file key of a field, for callers
from components.regions import TARGETS, zone_count
from components.targets import target_of

T = TypeVar("T")

SIZE_CLASSES: tuple[str, ...] = ("xsmall", "small", "medium", "large", "xlarge")
"""Abstract sizes; each target maps them to its own instance types and SKUs."""

NatMode = Literal["none", "single", "per-zone"]
Tier = Literal["ephemeral", "development", "preproduction", "production"]
TIERS: tuple[str, ...] = get_args(Tier)
POSTGRES_VERSIONS: tuple[str, ...] = ("14", "15", "16", "17")
PROD_MIN_BACKUP_RETENTION_DAYS = 7
PROD_MIN_ZONES = 2
RESERVED_PORTS = {22: "SSH", 5432: "PostgreSQL"}

# RFC 1918: the only ranges that are private on every target and on-prem.
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
# Subnets are carved from the stage network; below /24 they get too small for a compute group.
MIN_PREFIX, MAX_PREFIX = 16, 24


@dataclass(frozen=True, config=MODEL_CONFIG)
class NetworkSpec:
    cidr: Text
    """IPv4 CIDR of the stage network, inside RFC 1918, /16 to /24. Required."""
    zone_count: Whole = 2
    """Zones to spread subnets over; each gets a public and a private subnet. Default 2."""
    nat: NatMode = "single"
    """Private-tier egress: `none`, one shared `single` gateway, or `per-zone`. Default `single`."""


@dataclass(frozen=True, config=MODEL_CONFIG)
class ComputeSpec:
    size: Text = "small"
    """Abstract instance size, one of SIZE_CLASSES. Default `small`."""
    min_count: Whole = 1
    """Fewest instances the group keeps running. Default 1."""
    max_count: Whole = 2
    """Most instances the group may scale to. Default 2."""
    app_port: Whole = 8080
    """Port the application listens on, reachable only from inside the network. Default 8080."""
    target_cpu_percent: Whole = 60
    """Average CPU the group's autoscaling keeps instances at, on every target. Default 60."""
    sku: OptionalText = None
    """The target's own instance type (EC2 type, Azure VM size, GCE machine type) in place of
    `size`, checked against that target's catalogue. Default: none, `size` decides."""


@dataclass(frozen=True, config=MODEL_CONFIG)
class DatabaseSpec:
    engine_version: Text = "16"
    """PostgreSQL major version, one of POSTGRES_VERSIONS. Default `16`."""
    size: Text = "small"
    """Abstract instance size, one of SIZE_CLASSES. Default `small`."""
    storage_gb: Whole = 20
    """Allocated storage in GiB. Default 20."""
    high_availability: Flag = False
    """A synchronous standby in a second zone. Default off; required in production."""
    backup_retention_days: Whole = 1
    """Days of automated backups, 0 to 35. Default 1; production needs at least 7."""
    deletion_protection: Flag = False
    """The cloud's own guard against deleting the database. Default off; required in production."""
    sku: OptionalText = None
    """The target's own database class (RDS class, Azure Flexible Server SKU, Cloud SQL tier) in
    place of `size`, checked against that target's catalogue. Default: none, `size` decides."""


@dataclass(frozen=True, config=MODEL_CONFIG)
class StorageSpec:
    versioning: Flag = True
    """Keep object versions. Default on."""
    retention_days: Whole = 30
    """Days before noncurrent object versions expire. Default 30."""


@dataclass(frozen=True, config=MODEL_CONFIG)
class ObservabilitySpec:
    log_retention_days: Whole = 14
    """Days application logs are kept. Default 14."""
    alarms: Flag = True
    """Create CPU and database alarms. Default on."""
    cpu_alarm_percent: Whole = 80
    """Average CPU of the compute group that raises the alarm. Default 80."""


@dataclass(frozen=True, config=MODEL_CONFIG)
class IngressSpec:
    allowed_cidrs: Annotated[
        tuple[StrictStr, ...],
        Says(whole=("not a list of CIDRs", "write [10.99.0.0/24, 172.16.5.0/24]")),
    ] = ()
    """Client ranges allowed to reach the entry point beyond the stage's own network (and its
    DR replicas'). Default none. Widening them is a change a promotion needs approved."""


@dataclass(frozen=True, config=MODEL_CONFIG)
class EnvironmentSpec:
    """The environment sections of the `stageline:` namespace (each absent one takes its
    defaults; `network` needs its `cidr`)."""

    network: section(NetworkSpec) = Field(default_factory=dict, validate_default=True)
    compute: section(ComputeSpec) = Field(default_factory=ComputeSpec)
    database: section(DatabaseSpec) = Field(default_factory=DatabaseSpec)
    storage: section(StorageSpec) = Field(default_factory=StorageSpec)
    observability: section(ObservabilitySpec) = Field(default_factory=ObservabilitySpec)
    ingress: section(IngressSpec) = Field(default_factory=IngressSpec)
    protect_data: Flag = False
    """Mark data resources `protect` and `retain_on_delete`. Default off; required in production."""


SECTIONS: dict[str, type] = {
    "network": NetworkSpec,
    "compute": ComputeSpec,
    "database": DatabaseSpec,
    "storage": StorageSpec,
    "observability": ObservabilitySpec,
    "ingress": IngressSpec,
}


def parse_section(section: str, cls: type[T], raw: Any) -> tuple[T | None, list[ConfigIssue]]:
    """Build one spec section from its config object, reporting unknown keys and bad types."""
    return validate(cls, {} if raw is None else raw, prefix=section)


def parse_spec(raw: Mapping[str, Any]) -> tuple[EnvironmentSpec | None, list[ConfigIssue]]:
    """The spec from the `stageline:` namespace: its sections (`network`, ...) and
    `protectData`; the namespace's other keys are not the spec's."""
    own = set(aliases(EnvironmentSpec))
    return validate(EnvironmentSpec, {k: v for k, v in raw.items() if k in own})


# --- validation: pure functions, each returns every issue it finds -------------------------


def validate_target_region(target: str, region: str) -> list[ConfigIssue]:
    if target not in TARGETS:
        return [ConfigIssue("target", target, "unknown target", f"use one of {', '.join(TARGETS)}")]
    return target_of(target).places.validate(region)


def parse_private_cidr(
    key: str, cidr: str
) -> tuple[ipaddress.IPv4Network | None, list[ConfigIssue]]:
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        return None, [
            ConfigIssue(key, cidr, f"not a network CIDR ({exc})", "use e.g. 10.20.0.0/16")
        ]
    if not isinstance(net, ipaddress.IPv4Network):
        return None, [ConfigIssue(key, cidr, "not IPv4", "use an RFC 1918 IPv4 range")]
    if not any(net.subnet_of(r) for r in PRIVATE_RANGES):
        return None, [
            ConfigIssue(
                key, cidr, "not a private range", "use a range inside 10/8, 172.16/12 or 192.168/16"
            )
        ]
    return net, []


def validate_network(net: NetworkSpec, target: str, region: str) -> list[ConfigIssue]:
    parsed, issues = parse_private_cidr("network.cidr", net.cidr)
    if parsed and not MIN_PREFIX <= parsed.prefixlen <= MAX_PREFIX:
        issues.append(
            ConfigIssue(
                "network.cidr",
                net.cidr,
                f"prefix /{parsed.prefixlen} is outside /{MIN_PREFIX}../{MAX_PREFIX}",
                "use a /16 to /24 network",
            )
        )
    limit = target_of(target).places.zone_limit(region) if target in TARGETS else None
    if net.zone_count < 1:
        issues.append(
            ConfigIssue("network.zoneCount", net.zone_count, "must be at least 1", "set 1 or more")
        )
    elif limit is not None and net.zone_count > limit:
        issues.append(
            ConfigIssue(
                "network.zoneCount",
                net.zone_count,
                f"{region} has only {limit} zones",
                f"use at most {limit}",
            )
        )
    return issues


def _validate_size(key: str, size: str) -> list[ConfigIssue]:
    if size not in SIZE_CLASSES:
        return [ConfigIssue(key, size, "unknown size", f"use one of {', '.join(SIZE_CLASSES)}")]
    return []


def _validate_positive(key: str, value: int, unit: str = "") -> list[ConfigIssue]:
    if value <= 0:
        return [ConfigIssue(key, value, "must be positive", f"use a number above 0{unit}")]
    return []


def validate_compute(compute: ComputeSpec) -> list[ConfigIssue]:
    issues = _validate_size("compute.size", compute.size)
    issues += _validate_positive("compute.minCount", compute.min_count)
    issues += _validate_positive("compute.maxCount", compute.max_count)
    if compute.min_count > compute.max_count:
        issues.append(
            ConfigIssue(
                "compute.minCount",
                compute.min_count,
                f"above compute.maxCount ({compute.max_count})",
                f"lower minCount to at most {compute.max_count} or raise maxCount",
            )
        )
    if not 1 <= compute.target_cpu_percent <= 100:
        issues.append(
            ConfigIssue(
                "compute.targetCpuPercent",
                compute.target_cpu_percent,
                "not a percentage",
                "use 1 to 100 (the average CPU autoscaling keeps; default 60)",
            )
        )
    if not 1 <= compute.app_port <= 65535 or compute.app_port in RESERVED_PORTS:
        issues.append(
            ConfigIssue(
                "compute.appPort",
                compute.app_port,
                "not a usable application port",
                "use a port in 1..65535 other than 22 and 5432",
            )
        )
    return issues


def validate_database(db: DatabaseSpec) -> list[ConfigIssue]:
    issues = _validate_size("database.size", db.size)
    if db.engine_version not in POSTGRES_VERSIONS:
        issues.append(
            ConfigIssue(
                "database.engineVersion",
                db.engine_version,
                "unsupported PostgreSQL major version",
                f"use one of {', '.join(POSTGRES_VERSIONS)}",
            )
        )
    issues += _validate_positive("database.storageGb", db.storage_gb, " GiB")
    if not 0 <= db.backup_retention_days <= 35:
        issues.append(
            ConfigIssue(
                "database.backupRetentionDays",
                db.backup_retention_days,
                "outside 0..35 days",
                "use 0 to 35",
            )
        )
    return issues


def validate_storage(storage: StorageSpec) -> list[ConfigIssue]:
    return _validate_positive("storage.retentionDays", storage.retention_days, " days")


def validate_observability(obs: ObservabilitySpec) -> list[ConfigIssue]:
    issues = _validate_positive("observability.logRetentionDays", obs.log_retention_days, " days")
    if not 1 <= obs.cpu_alarm_percent <= 100:
        issues.append(
            ConfigIssue(
                "observability.cpuAlarmPercent",
                obs.cpu_alarm_percent,
                "not a percentage",
                "use 1 to 100",
            )
        )
    return issues


def validate_tier(
    spec: EnvironmentSpec, tier: str, zones_available: int = PROD_MIN_ZONES
) -> list[ConfigIssue]:
    """Rules a production stage must meet; stages state their tier, components never see it."""
    if tier != "production":
        return []
    rules: list[tuple[bool, str, object, str, str]] = [
        (
            # A single-zone target (an on-prem site) gets its HA from the database standby.
            spec.network.zone_count >= min(PROD_MIN_ZONES, zones_available),
            "network.zoneCount",
            spec.network.zone_count,
            f"production needs at least {PROD_MIN_ZONES} zones",
            f"set network.zoneCount to {PROD_MIN_ZONES} or more",
        ),
        (
            spec.database.high_availability,
            "database.highAvailability",
            spec.database.high_availability,
            "production needs a highly available database",
            "set database.highAvailability: true",
        ),
        (
            spec.database.backup_retention_days >= PROD_MIN_BACKUP_RETENTION_DAYS,
            "database.backupRetentionDays",
            spec.database.backup_retention_days,
            f"production keeps backups at least {PROD_MIN_BACKUP_RETENTION_DAYS} days",
            f"set it to {PROD_MIN_BACKUP_RETENTION_DAYS} or more",
        ),
        (
            spec.database.deletion_protection,
            "database.deletionProtection",
            spec.database.deletion_protection,
            "production databases must refuse deletion",
            "set database.deletionProtection: true",
        ),
        (
            spec.protect_data,
            "protectData",
            spec.protect_data,
            "production data resources must be protected",
            "set protectData: true",
        ),
    ]
    return [
        ConfigIssue(key, value, problem, fix) for ok, key, value, problem, fix in rules if not ok
    ]


MIN_CLIENT_PREFIX = 8
"""Wider client ranges than a /8 are the internet in all but name."""


def validate_ingress(ingress: IngressSpec) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for i, cidr in enumerate(ingress.allowed_cidrs):
        key = f"ingress.allowedCidrs[{i}]"
        try:
            net = ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            issues.append(
                ConfigIssue(key, cidr, f"not a network CIDR ({exc})", "use e.g. 10.99.0.0/24")
            )
            continue
        if not isinstance(net, ipaddress.IPv4Network):
            issues.append(
                ConfigIssue(key, cidr, "not IPv4", "use an IPv4 range, e.g. 10.99.0.0/24")
            )
        elif net.prefixlen < MIN_CLIENT_PREFIX:
            issues.append(
                ConfigIssue(
                    key,
                    cidr,
                    f"opens the entry point to /{net.prefixlen}, wider than /{MIN_CLIENT_PREFIX}",
                    "name the clients' own ranges; a public entry point needs a load balancer "
                    "and a WAF in front, not an open range",
                )
            )
    return issues


def validate_spec(spec: EnvironmentSpec, target: str, region: str, tier: str) -> list[ConfigIssue]:
    return (
        validate_ingress(spec.ingress)
        + validate_network(spec.network, target, region)
        + validate_compute(spec.compute)
        + validate_database(spec.database)
        + validate_storage(spec.storage)
        + validate_observability(spec.observability)
        + validate_tier(spec, tier, zone_count(target, region) or PROD_MIN_ZONES)
    )
