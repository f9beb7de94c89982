"""The typed, validated description of one environment.

Stages differ only by the values here. Parsing turns the `stageline:<section>` config objects
into frozen dataclasses; the `validate_*` functions are pure and return every problem found,
each naming the key, the value and the fix. Nothing in this module touches Pulumi resources.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from components.errors import ConfigIssue
from components.regions import TARGETS, ZONES, known_regions, zone_count, zones_of

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


@dataclass(frozen=True)
class NetworkSpec:
    cidr: str
    """IPv4 CIDR of the stage network, inside RFC 1918, /16 to /24. Required."""
    zone_count: int = 2
    """Zones to spread subnets over; each gets a public and a private subnet. Default 2."""
    nat: NatMode = "single"
    """Private-tier egress: `none`, one shared `single` gateway, or `per-zone`. Default `single`."""


@dataclass(frozen=True)
class ComputeSpec:
    size: str = "small"
    """Abstract instance size, one of SIZE_CLASSES. Default `small`."""
    min_count: int = 1
    """Fewest instances the group keeps running. Default 1."""
    max_count: int = 2
    """Most instances the group may scale to. Default 2."""
    app_port: int = 8080
    """Port the application listens on, reachable only from inside the network. Default 8080."""
    target_cpu_percent: int = 60
    """Average CPU the group's autoscaling keeps instances at, on every target. Default 60."""
    sku: str | None = None
    """The target's own instance type (EC2 type, Azure VM size, GCE machine type) in place of
    `size`, checked against that target's catalogue. Default: none, `size` decides."""


@dataclass(frozen=True)
class DatabaseSpec:
    engine_version: str = "16"
    """PostgreSQL major version, one of POSTGRES_VERSIONS. Default `16`."""
    size: str = "small"
    """Abstract instance size, one of SIZE_CLASSES. Default `small`."""
    storage_gb: int = 20
    """Allocated storage in GiB. Default 20."""
    high_availability: bool = False
    """A synchronous standby in a second zone. Default off; required in production."""
    backup_retention_days: int = 1
    """Days of automated backups, 0 to 35. Default 1; production needs at least 7."""
    deletion_protection: bool = False
    """The cloud's own guard against deleting the database. Default off; required in production."""
    sku: str | None = None
    """The target's own database class (RDS class, Azure Flexible Server SKU, Cloud SQL tier) in
    place of `size`, checked against that target's catalogue. Default: none, `size` decides."""


@dataclass(frozen=True)
class StorageSpec:
    versioning: bool = True
    """Keep object versions. Default on."""
    retention_days: int = 30
    """Days before noncurrent object versions expire. Default 30."""


@dataclass(frozen=True)
class ObservabilitySpec:
    log_retention_days: int = 14
    """Days application logs are kept. Default 14."""
    alarms: bool = True
    """Create CPU and database alarms. Default on."""
    cpu_alarm_percent: int = 80
    """Average CPU of the compute group that raises the alarm. Default 80."""


@dataclass(frozen=True)
class EnvironmentSpec:
    network: NetworkSpec
    compute: ComputeSpec
    database: DatabaseSpec
    storage: StorageSpec
    observability: ObservabilitySpec
    protect_data: bool = False
    """Mark data resources `protect` and `retain_on_delete`. Default off; required in production."""


SECTIONS: dict[str, type] = {
    "network": NetworkSpec,
    "compute": ComputeSpec,
    "database": DatabaseSpec,
    "storage": StorageSpec,
    "observability": ObservabilitySpec,
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


T = TypeVar("T")


def _check_type(key: str, value: Any, annotation: Any) -> ConfigIssue | None:
    if get_origin(annotation) is Literal:
        allowed = get_args(annotation)
        if value not in allowed:
            return ConfigIssue(
                key, value, "not an allowed value", f"use one of {', '.join(allowed)}"
            )
        return None
    if annotation is bool:
        if not isinstance(value, bool):
            return ConfigIssue(key, value, "not a boolean", "use true or false")
        return None
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return ConfigIssue(key, value, "not a whole number", "use an integer such as 2")
        return None
    if annotation is str and not isinstance(value, str):
        return ConfigIssue(key, value, "not a string", "quote the value in the stack file")
    if _is_optional_str(annotation) and value is not None and not isinstance(value, str):
        return ConfigIssue(key, value, "not a string", "quote the value, or remove the key")
    return None


def _is_optional_str(annotation: Any) -> bool:
    """`str | None`: the optional per-target overrides (sku, names)."""
    return get_origin(annotation) in (Union, UnionType) and set(get_args(annotation)) == {
        str,
        type(None),
    }


def parse_section(section: str, cls: type[T], raw: Any) -> tuple[T | None, list[ConfigIssue]]:
    """Build one spec section from its config object, reporting unknown keys and bad types."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return None, [ConfigIssue(section, raw, "must be an object", f"write {section}: as a map")]
    hints = get_type_hints(cls)
    known = {camel(f.name): f for f in fields(cls)}  # type: ignore[arg-type]
    issues: list[ConfigIssue] = []
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]}?" if close else f"known keys: {', '.join(known)}"
            issues.append(ConfigIssue(f"{section}.{key}", raw[key], "unknown key", hint))
    values: dict[str, Any] = {}
    for key, f in known.items():
        if key in raw:
            issue = _check_type(f"{section}.{key}", raw[key], hints[f.name])
            if issue:
                issues.append(issue)
            else:
                values[f.name] = raw[key]
        elif f.default is MISSING:
            issues.append(
                ConfigIssue(f"{section}.{key}", None, "is required", f"set {section}.{key}")
            )
    if issues:
        return None, issues
    return cls(**values), []


def parse_spec(raw: Mapping[str, Any]) -> tuple[EnvironmentSpec | None, list[ConfigIssue]]:
    """`raw` maps section names (`network`, ...) and `protectData` to their config values."""
    issues: list[ConfigIssue] = []
    parts: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        part, found = parse_section(section, cls, raw.get(section))
        parts[section] = part
        issues += found
    protect = raw.get("protectData", False)
    if not isinstance(protect, bool):
        issues.append(ConfigIssue("protectData", protect, "not a boolean", "use true or false"))
    if issues:
        return None, issues
    return EnvironmentSpec(**parts, protect_data=protect), []


# --- validation: pure functions, each returns every issue it finds -------------------------


def validate_target_region(target: str, region: str) -> list[ConfigIssue]:
    if target not in TARGETS:
        return [ConfigIssue("target", target, "unknown target", f"use one of {', '.join(TARGETS)}")]
    if target == "libvirt":
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", region or ""):
            return [
                ConfigIssue(
                    "region", region, "not a valid site name", "use lowercase letters, digits, -"
                )
            ]
        return []
    if region not in ZONES[target]:
        close = difflib.get_close_matches(str(region), known_regions(target), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return [
            ConfigIssue(
                "region",
                region,
                f"not a {target} region stageline knows",
                f"{hint}use one of {', '.join(known_regions(target))}",
            )
        ]
    return []


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
    if net.zone_count < 1:
        issues.append(
            ConfigIssue("network.zoneCount", net.zone_count, "must be at least 1", "set 1 or more")
        )
    elif target in ZONES and region in ZONES[target]:
        available = len(zones_of(target, region))
        if net.zone_count > available:
            issues.append(
                ConfigIssue(
                    "network.zoneCount",
                    net.zone_count,
                    f"{region} has only {available} zones",
                    f"use at most {available}",
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


def validate_spec(spec: EnvironmentSpec, target: str, region: str, tier: str) -> list[ConfigIssue]:
    return (
        validate_network(spec.network, target, region)
        + validate_compute(spec.compute)
        + validate_database(spec.database)
        + validate_storage(spec.storage)
        + validate_observability(spec.observability)
        + validate_tier(spec, tier, zone_count(target, region) or PROD_MIN_ZONES)
    )
