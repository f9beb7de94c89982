"""The spec's parsing and `validate_*` rules, one case per bad-input kind.

Each bad case breaks exactly one rule and expects exactly that one issue, written out whole;
each boundary case sits just inside a rule and expects none. The functions are pure, so no
mocks are needed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

import pytest

from components.errors import ConfigIssue
from components.regions import known_regions
from components.spec import (
    ComputeSpec,
    DatabaseSpec,
    EnvironmentSpec,
    NetworkSpec,
    ObservabilitySpec,
    StorageSpec,
    camel,
    parse_section,
    parse_spec,
    validate_compute,
    validate_database,
    validate_network,
    validate_observability,
    validate_spec,
    validate_storage,
    validate_target_region,
    validate_tier,
)

AWS_REGIONS = ", ".join(known_regions("aws"))


def ipaddress_error(text: str) -> str:
    """The standard library's own words for a malformed network, which the issue quotes."""
    try:
        ipaddress.ip_network(text)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{text} parses")


def prod_ready(**changes: Any) -> EnvironmentSpec:
    """A spec that meets every production rule; `changes` break one section field each."""
    spec = EnvironmentSpec(
        network=NetworkSpec(cidr="10.1.0.0/16", zone_count=2),
        compute=ComputeSpec(),
        database=DatabaseSpec(
            high_availability=True, backup_retention_days=7, deletion_protection=True
        ),
        storage=StorageSpec(),
        observability=ObservabilitySpec(),
        protect_data=True,
    )
    for dotted, value in changes.items():
        if "." not in dotted:
            spec = dataclasses.replace(spec, **{dotted: value})
            continue
        section, name = dotted.split(".")
        part = dataclasses.replace(getattr(spec, section), **{name: value})
        spec = dataclasses.replace(spec, **{section: part})
    return spec


# --- target and region -------------------------------------------------------------------

REGION_CASES = [
    (
        "unknown target",
        "openstack",
        "x",
        ConfigIssue("target", "openstack", "unknown target", "use one of aws, azure, gcp, libvirt"),
    ),
    (
        "cloud region with a close known one",
        "aws",
        "us-east-1x",
        ConfigIssue(
            "region",
            "us-east-1x",
            "not a aws region stageline knows",
            f"did you mean us-east-1? use one of {AWS_REGIONS}",
        ),
    ),
    (
        "cloud region nothing like a known one",
        "aws",
        "zz",
        ConfigIssue(
            "region", "zz", "not a aws region stageline knows", f"use one of {AWS_REGIONS}"
        ),
    ),
]
SITE = ConfigIssue("region", None, "not a valid site name", "use lowercase letters, digits, -")
BAD_SITES = ["Lab", "1lab", "lab_a", "a" * 32, "", "-lab"]
GOOD_SITES = ["lab", "l", "a" * 31, "site-2"]


@pytest.mark.parametrize(
    ("target", "region", "issue"), [c[1:] for c in REGION_CASES], ids=[c[0] for c in REGION_CASES]
)
def test_bad_target_or_region(target: str, region: str, issue: ConfigIssue) -> None:
    assert validate_target_region(target, region) == [issue]


@pytest.mark.parametrize("site", BAD_SITES)
def test_bad_libvirt_site_name(site: str) -> None:
    assert validate_target_region("libvirt", site) == [dataclasses.replace(SITE, value=site)]


@pytest.mark.parametrize(
    ("target", "region"),
    [("aws", "us-east-1"), ("gcp", "us-central1"), ("azure", "westeurope")]
    + [("libvirt", s) for s in GOOD_SITES],
)
def test_known_regions_and_site_names_pass(target: str, region: str) -> None:
    assert validate_target_region(target, region) == []


# --- network -----------------------------------------------------------------------------

NETWORK_CASES = [
    (
        "malformed CIDR",
        NetworkSpec("10.1.0.0/33"),
        ConfigIssue(
            "network.cidr",
            "10.1.0.0/33",
            f"not a network CIDR ({ipaddress_error('10.1.0.0/33')})",
            "use e.g. 10.20.0.0/16",
        ),
    ),
    (
        "host bits set",
        NetworkSpec("10.1.0.1/16"),
        ConfigIssue(
            "network.cidr",
            "10.1.0.1/16",
            f"not a network CIDR ({ipaddress_error('10.1.0.1/16')})",
            "use e.g. 10.20.0.0/16",
        ),
    ),
    (
        "IPv6 CIDR",
        NetworkSpec("fd00::/48"),
        ConfigIssue("network.cidr", "fd00::/48", "not IPv4", "use an RFC 1918 IPv4 range"),
    ),
    (
        "public CIDR",
        NetworkSpec("8.8.0.0/16"),
        ConfigIssue(
            "network.cidr",
            "8.8.0.0/16",
            "not a private range",
            "use a range inside 10/8, 172.16/12 or 192.168/16",
        ),
    ),
    (
        "prefix too wide",
        NetworkSpec("10.0.0.0/15"),
        ConfigIssue(
            "network.cidr",
            "10.0.0.0/15",
            "prefix /15 is outside /16../24",
            "use a /16 to /24 network",
        ),
    ),
    (
        "prefix too narrow",
        NetworkSpec("10.1.1.0/25"),
        ConfigIssue(
            "network.cidr",
            "10.1.1.0/25",
            "prefix /25 is outside /16../24",
            "use a /16 to /24 network",
        ),
    ),
    (
        "no zones",
        NetworkSpec("10.1.0.0/16", zone_count=0),
        ConfigIssue("network.zoneCount", 0, "must be at least 1", "set 1 or more"),
    ),
    (
        "more zones than the region has",
        NetworkSpec("10.1.0.0/16", zone_count=7),
        ConfigIssue("network.zoneCount", 7, "us-east-1 has only 6 zones", "use at most 6"),
    ),
]
GOOD_NETWORKS = [
    NetworkSpec("10.1.0.0/16"),
    NetworkSpec("10.1.1.0/24"),
    NetworkSpec("172.16.0.0/16"),
    NetworkSpec("192.168.4.0/24"),
    NetworkSpec("10.1.0.0/16", zone_count=1),
    NetworkSpec("10.1.0.0/16", zone_count=6),
]


@pytest.mark.parametrize(
    ("net", "issue"), [c[1:] for c in NETWORK_CASES], ids=[c[0] for c in NETWORK_CASES]
)
def test_bad_network(net: NetworkSpec, issue: ConfigIssue) -> None:
    assert validate_network(net, "aws", "us-east-1") == [issue]


@pytest.mark.parametrize("net", GOOD_NETWORKS, ids=lambda n: f"{n.cidr}x{n.zone_count}")
def test_networks_within_the_rules_pass(net: NetworkSpec) -> None:
    assert validate_network(net, "aws", "us-east-1") == []


def test_zone_count_is_only_capped_where_the_region_is_known() -> None:
    many = NetworkSpec("10.1.0.0/16", zone_count=9)
    assert validate_network(many, "libvirt", "lab") == []
    assert validate_network(many, "aws", "us-east-9") == []


# --- compute, database, storage, observability --------------------------------------------

SIZES = "use one of xsmall, small, medium, large, xlarge"
PORT_FIX = "use a port in 1..65535 other than 22 and 5432"
COMPUTE_CASES = [
    ("unknown size", {"size": "huge"}, ConfigIssue("compute.size", "huge", "unknown size", SIZES)),
    (
        "zero minimum",
        {"min_count": 0},
        ConfigIssue("compute.minCount", 0, "must be positive", "use a number above 0"),
    ),
    (
        "minimum above maximum",
        {"min_count": 3, "max_count": 2},
        ConfigIssue(
            "compute.minCount",
            3,
            "above compute.maxCount (2)",
            "lower minCount to at most 2 or raise maxCount",
        ),
    ),
    (
        "CPU target 0",
        {"target_cpu_percent": 0},
        ConfigIssue(
            "compute.targetCpuPercent",
            0,
            "not a percentage",
            "use 1 to 100 (the average CPU autoscaling keeps; default 60)",
        ),
    ),
    (
        "CPU target 101",
        {"target_cpu_percent": 101},
        ConfigIssue(
            "compute.targetCpuPercent",
            101,
            "not a percentage",
            "use 1 to 100 (the average CPU autoscaling keeps; default 60)",
        ),
    ),
    (
        "port 0",
        {"app_port": 0},
        ConfigIssue("compute.appPort", 0, "not a usable application port", PORT_FIX),
    ),
    (
        "port 65536",
        {"app_port": 65536},
        ConfigIssue("compute.appPort", 65536, "not a usable application port", PORT_FIX),
    ),
    (
        "SSH port",
        {"app_port": 22},
        ConfigIssue("compute.appPort", 22, "not a usable application port", PORT_FIX),
    ),
    (
        "database port",
        {"app_port": 5432},
        ConfigIssue("compute.appPort", 5432, "not a usable application port", PORT_FIX),
    ),
]


@pytest.mark.parametrize(
    ("changes", "issue"), [c[1:] for c in COMPUTE_CASES], ids=[c[0] for c in COMPUTE_CASES]
)
def test_bad_compute(changes: dict[str, Any], issue: ConfigIssue) -> None:
    assert validate_compute(ComputeSpec(**changes)) == [issue]


def test_zero_maximum_is_reported_with_the_minimum_above_it() -> None:
    assert validate_compute(ComputeSpec(min_count=1, max_count=0)) == [
        ConfigIssue("compute.maxCount", 0, "must be positive", "use a number above 0"),
        ConfigIssue(
            "compute.minCount",
            1,
            "above compute.maxCount (0)",
            "lower minCount to at most 0 or raise maxCount",
        ),
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"min_count": 2, "max_count": 2},
        {"target_cpu_percent": 1},
        {"target_cpu_percent": 100},
        {"app_port": 1},
        {"app_port": 65535},
        {"app_port": 23},
        {"size": "xlarge"},
    ],
    ids=str,
)
def test_compute_within_the_rules_passes(changes: dict[str, Any]) -> None:
    assert validate_compute(ComputeSpec(**changes)) == []


DATABASE_CASES = [
    (
        "unknown size",
        {"size": "huge"},
        ConfigIssue("database.size", "huge", "unknown size", SIZES),
    ),
    (
        "unsupported engine",
        {"engine_version": "13"},
        ConfigIssue(
            "database.engineVersion",
            "13",
            "unsupported PostgreSQL major version",
            "use one of 14, 15, 16, 17",
        ),
    ),
    (
        "no storage",
        {"storage_gb": 0},
        ConfigIssue("database.storageGb", 0, "must be positive", "use a number above 0 GiB"),
    ),
    (
        "negative backups",
        {"backup_retention_days": -1},
        ConfigIssue("database.backupRetentionDays", -1, "outside 0..35 days", "use 0 to 35"),
    ),
    (
        "backups beyond 35 days",
        {"backup_retention_days": 36},
        ConfigIssue("database.backupRetentionDays", 36, "outside 0..35 days", "use 0 to 35"),
    ),
]


@pytest.mark.parametrize(
    ("changes", "issue"), [c[1:] for c in DATABASE_CASES], ids=[c[0] for c in DATABASE_CASES]
)
def test_bad_database(changes: dict[str, Any], issue: ConfigIssue) -> None:
    assert validate_database(DatabaseSpec(**changes)) == [issue]


@pytest.mark.parametrize(
    "changes",
    [
        {"backup_retention_days": 0},
        {"backup_retention_days": 35},
        {"storage_gb": 1},
        {"engine_version": "14"},
        {"engine_version": "17"},
    ],
    ids=str,
)
def test_database_within_the_rules_passes(changes: dict[str, Any]) -> None:
    assert validate_database(DatabaseSpec(**changes)) == []


def test_bad_storage_retention() -> None:
    assert validate_storage(StorageSpec(retention_days=0)) == [
        ConfigIssue("storage.retentionDays", 0, "must be positive", "use a number above 0 days")
    ]
    assert validate_storage(StorageSpec(retention_days=1)) == []


OBSERVABILITY_CASES = [
    (
        "no log retention",
        {"log_retention_days": 0},
        ConfigIssue(
            "observability.logRetentionDays", 0, "must be positive", "use a number above 0 days"
        ),
    ),
    (
        "alarm at 0%",
        {"cpu_alarm_percent": 0},
        ConfigIssue("observability.cpuAlarmPercent", 0, "not a percentage", "use 1 to 100"),
    ),
    (
        "alarm at 101%",
        {"cpu_alarm_percent": 101},
        ConfigIssue("observability.cpuAlarmPercent", 101, "not a percentage", "use 1 to 100"),
    ),
]


@pytest.mark.parametrize(
    ("changes", "issue"),
    [c[1:] for c in OBSERVABILITY_CASES],
    ids=[c[0] for c in OBSERVABILITY_CASES],
)
def test_bad_observability(changes: dict[str, Any], issue: ConfigIssue) -> None:
    assert validate_observability(ObservabilitySpec(**changes)) == [issue]


@pytest.mark.parametrize(
    "changes", [{"log_retention_days": 1}, {"cpu_alarm_percent": 1}, {"cpu_alarm_percent": 100}]
)
def test_observability_within_the_rules_passes(changes: dict[str, Any]) -> None:
    assert validate_observability(ObservabilitySpec(**changes)) == []


# --- production rules --------------------------------------------------------------------

TIER_CASES = [
    (
        "one zone",
        {"network.zone_count": 1},
        ConfigIssue(
            "network.zoneCount",
            1,
            "production needs at least 2 zones",
            "set network.zoneCount to 2 or more",
        ),
    ),
    (
        "no standby",
        {"database.high_availability": False},
        ConfigIssue(
            "database.highAvailability",
            False,
            "production needs a highly available database",
            "set database.highAvailability: true",
        ),
    ),
    (
        "six days of backups",
        {"database.backup_retention_days": 6},
        ConfigIssue(
            "database.backupRetentionDays",
            6,
            "production keeps backups at least 7 days",
            "set it to 7 or more",
        ),
    ),
    (
        "deletable database",
        {"database.deletion_protection": False},
        ConfigIssue(
            "database.deletionProtection",
            False,
            "production databases must refuse deletion",
            "set database.deletionProtection: true",
        ),
    ),
    (
        "unprotected data",
        {"protect_data": False},
        ConfigIssue(
            "protectData",
            False,
            "production data resources must be protected",
            "set protectData: true",
        ),
    ),
]


@pytest.mark.parametrize(
    ("changes", "issue"), [c[1:] for c in TIER_CASES], ids=[c[0] for c in TIER_CASES]
)
def test_each_production_rule(changes: dict[str, Any], issue: ConfigIssue) -> None:
    spec = prod_ready(**changes)
    assert validate_tier(spec, "production") == [issue]
    # The same spec is fine below production: the rule belongs to the tier alone.
    for tier in ("ephemeral", "development", "preproduction"):
        assert validate_tier(spec, tier) == [], tier


def test_production_minimums_pass() -> None:
    assert validate_tier(prod_ready(), "production") == []


def test_a_single_zone_site_needs_only_one_zone_in_production() -> None:
    spec = prod_ready(**{"network.zone_count": 1})
    assert validate_tier(spec, "production", zones_available=1) == []
    assert [i.key for i in validate_tier(spec, "production", zones_available=3)] == [
        "network.zoneCount"
    ]


def test_validate_spec_runs_every_section_and_the_tier() -> None:
    spec = prod_ready(
        **{
            "network.cidr": "8.8.0.0/16",
            "compute.size": "huge",
            "database.storage_gb": 0,
            "storage.retention_days": 0,
            "observability.cpu_alarm_percent": 0,
            "protect_data": False,
        }
    )
    assert [i.key for i in validate_spec(spec, "aws", "us-east-1", "production")] == [
        "network.cidr",
        "compute.size",
        "database.storageGb",
        "storage.retentionDays",
        "observability.cpuAlarmPercent",
        "protectData",
    ]


def test_validate_spec_takes_the_zone_floor_from_the_site() -> None:
    # A libvirt site has one zone: production there relies on the database standby.
    one_zone = prod_ready(**{"network.zone_count": 1})
    assert validate_spec(one_zone, "libvirt", "lab", "production") == []
    assert [i.key for i in validate_spec(one_zone, "aws", "us-east-1", "production")] == [
        "network.zoneCount"
    ]


# --- parsing -----------------------------------------------------------------------------

PARSE_CASES = [
    (
        "misspelt key",
        NetworkSpec,
        {"cidr": "10.1.0.0/16", "zoneCont": 2},
        ConfigIssue("network.zoneCont", 2, "unknown key", "did you mean zoneCount?"),
    ),
    (
        "unknown key like no known one",
        NetworkSpec,
        {"cidr": "10.1.0.0/16", "flavour": 2},
        ConfigIssue("network.flavour", 2, "unknown key", "known keys: cidr, zoneCount, nat"),
    ),
    (
        "required key missing",
        NetworkSpec,
        {"zoneCount": 2},
        ConfigIssue("network.cidr", None, "is required", "set network.cidr"),
    ),
    (
        "value outside a choice",
        NetworkSpec,
        {"cidr": "10.1.0.0/16", "nat": "double"},
        ConfigIssue(
            "network.nat", "double", "not an allowed value", "use one of none, single, per-zone"
        ),
    ),
    (
        "string for a boolean",
        DatabaseSpec,
        {"highAvailability": "yes"},
        ConfigIssue("database.highAvailability", "yes", "not a boolean", "use true or false"),
    ),
    (
        "string for a number",
        DatabaseSpec,
        {"storageGb": "20"},
        ConfigIssue("database.storageGb", "20", "not a whole number", "use an integer such as 2"),
    ),
    (
        "boolean for a number",
        DatabaseSpec,
        {"storageGb": True},
        ConfigIssue("database.storageGb", True, "not a whole number", "use an integer such as 2"),
    ),
    (
        "fraction for a number",
        DatabaseSpec,
        {"storageGb": 2.5},
        ConfigIssue("database.storageGb", 2.5, "not a whole number", "use an integer such as 2"),
    ),
    (
        "number for a string",
        DatabaseSpec,
        {"engineVersion": 16},
        ConfigIssue(
            "database.engineVersion", 16, "not a string", "quote the value in the stack file"
        ),
    ),
    (
        "number for an optional string",
        DatabaseSpec,
        {"sku": 5},
        ConfigIssue("database.sku", 5, "not a string", "quote the value, or remove the key"),
    ),
    (
        "a list for a section",
        DatabaseSpec,
        ["storageGb"],
        ConfigIssue("database", ["storageGb"], "must be an object", "write database: as a map"),
    ),
]


@pytest.mark.parametrize(
    ("cls", "raw", "issue"), [c[1:] for c in PARSE_CASES], ids=[c[0] for c in PARSE_CASES]
)
def test_bad_section(cls: type, raw: Any, issue: ConfigIssue) -> None:
    section = issue.key.split(".")[0]
    assert parse_section(section, cls, raw) == (None, [issue])


def test_section_values_are_parsed_and_defaults_kept() -> None:
    raw = {"storageGb": 50, "highAvailability": True, "sku": None}
    assert parse_section("database", DatabaseSpec, raw) == (
        DatabaseSpec(storage_gb=50, high_availability=True),
        [],
    )
    assert parse_section("database", DatabaseSpec, None) == (DatabaseSpec(), [])
    assert parse_section("network", NetworkSpec, {"cidr": "10.1.0.0/16", "nat": "per-zone"}) == (
        NetworkSpec("10.1.0.0/16", nat="per-zone"),
        [],
    )


def test_parse_spec_builds_every_section() -> None:
    raw = {"network": {"cidr": "10.1.0.0/16"}, "compute": {"maxCount": 4}, "protectData": True}
    assert parse_spec(raw) == (
        EnvironmentSpec(
            network=NetworkSpec("10.1.0.0/16"),
            compute=ComputeSpec(max_count=4),
            database=DatabaseSpec(),
            storage=StorageSpec(),
            observability=ObservabilitySpec(),
            protect_data=True,
        ),
        [],
    )
    spec, _ = parse_spec({"network": {"cidr": "10.1.0.0/16"}})
    assert spec is not None and spec.protect_data is False


def test_parse_spec_reports_every_section_and_protect_data() -> None:
    raw = {"network": {}, "storage": {"versioning": "on"}, "protectData": "yes"}
    assert parse_spec(raw) == (
        None,
        [
            ConfigIssue("network.cidr", None, "is required", "set network.cidr"),
            ConfigIssue("storage.versioning", "on", "not a boolean", "use true or false"),
            ConfigIssue("protectData", "yes", "not a boolean", "use true or false"),
        ],
    )


def test_camel() -> None:
    assert camel("backup_retention_days") == "backupRetentionDays"
    assert camel("cidr") == "cidr"


def test_validate_spec_caps_zones_by_the_stage_region() -> None:
    spec = prod_ready(**{"network.zone_count": 7})
    assert [i.key for i in validate_spec(spec, "aws", "us-east-1", "development")] == [
        "network.zoneCount"
    ]
