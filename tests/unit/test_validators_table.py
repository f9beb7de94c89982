"""The pure validators called directly, one table each: no parsing, no plan, no mocks.

Every bad row breaks one rule and expects exactly that rule's issue, written out whole; every
good row sits just inside a rule's bound and expects nothing. Specs are built from the model's
defaults, which pass every rule, so a row changes only what its case is about.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from components.errors import ConfigIssue
from components.spec import (
    ComputeSpec,
    DatabaseSpec,
    EnvironmentSpec,
    NetworkSpec,
    validate_compute,
    validate_database,
    validate_network,
    validate_tier,
)
from stageline.graph import StageNode, validate_graph

PORT_FIX = "use a port in 1..65535 other than 22 and 5432"
CPU_FIX = "use 1 to 100 (the average CPU autoscaling keeps; default 60)"
SIZES = "use one of xsmall, small, medium, large, xlarge"

COMPUTE: list[tuple[str, dict[str, Any], list[ConfigIssue]]] = [
    ("defaults", {}, []),
    (
        "size unknown",
        {"size": "huge"},
        [ConfigIssue("compute.size", "huge", "unknown size", SIZES)],
    ),
    (
        "minCount zero",
        {"min_count": 0},
        [ConfigIssue("compute.minCount", 0, "must be positive", "use a number above 0")],
    ),
    (
        "maxCount zero, below minCount too",
        {"min_count": 1, "max_count": 0},
        [
            ConfigIssue("compute.maxCount", 0, "must be positive", "use a number above 0"),
            ConfigIssue(
                "compute.minCount",
                1,
                "above compute.maxCount (0)",
                "lower minCount to at most 0 or raise maxCount",
            ),
        ],
    ),
    (
        "minCount above maxCount",
        {"min_count": 3, "max_count": 2},
        [
            ConfigIssue(
                "compute.minCount",
                3,
                "above compute.maxCount (2)",
                "lower minCount to at most 2 or raise maxCount",
            )
        ],
    ),
    ("minCount equal to maxCount", {"min_count": 2, "max_count": 2}, []),
    (
        "CPU target zero",
        {"target_cpu_percent": 0},
        [ConfigIssue("compute.targetCpuPercent", 0, "not a percentage", CPU_FIX)],
    ),
    (
        "CPU target above 100",
        {"target_cpu_percent": 101},
        [ConfigIssue("compute.targetCpuPercent", 101, "not a percentage", CPU_FIX)],
    ),
    ("CPU target at 1", {"target_cpu_percent": 1}, []),
    ("CPU target at 100", {"target_cpu_percent": 100}, []),
    (
        "port zero",
        {"app_port": 0},
        [ConfigIssue("compute.appPort", 0, "not a usable application port", PORT_FIX)],
    ),
    (
        "port above 65535",
        {"app_port": 65536},
        [ConfigIssue("compute.appPort", 65536, "not a usable application port", PORT_FIX)],
    ),
    (
        "port of SSH",
        {"app_port": 22},
        [ConfigIssue("compute.appPort", 22, "not a usable application port", PORT_FIX)],
    ),
    (
        "port of PostgreSQL",
        {"app_port": 5432},
        [ConfigIssue("compute.appPort", 5432, "not a usable application port", PORT_FIX)],
    ),
    ("port 1", {"app_port": 1}, []),
    ("port 65535", {"app_port": 65535}, []),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in COMPUTE], ids=[c[0] for c in COMPUTE]
)
def test_validate_compute(changes: dict[str, Any], expected: list[ConfigIssue]) -> None:
    assert validate_compute(ComputeSpec(**changes)) == expected


NETWORK: list[tuple[str, NetworkSpec, str, str, list[ConfigIssue]]] = [
    ("a /16 in 10/8", NetworkSpec("10.1.0.0/16"), "aws", "us-east-1", []),
    ("a /24 in 192.168/16", NetworkSpec("192.168.7.0/24"), "aws", "us-east-1", []),
    (
        "host bits set",
        NetworkSpec("10.1.0.1/16"),
        "aws",
        "us-east-1",
        [
            ConfigIssue(
                "network.cidr",
                "10.1.0.1/16",
                "not a network CIDR (10.1.0.1/16 has host bits set)",
                "use e.g. 10.20.0.0/16",
            )
        ],
    ),
    (
        "IPv6",
        NetworkSpec("fd00::/64"),
        "aws",
        "us-east-1",
        [ConfigIssue("network.cidr", "fd00::/64", "not IPv4", "use an RFC 1918 IPv4 range")],
    ),
    (
        "public range",
        NetworkSpec("8.8.0.0/16"),
        "aws",
        "us-east-1",
        [
            ConfigIssue(
                "network.cidr",
                "8.8.0.0/16",
                "not a private range",
                "use a range inside 10/8, 172.16/12 or 192.168/16",
            )
        ],
    ),
    (
        "wider than /16",
        NetworkSpec("10.0.0.0/15"),
        "aws",
        "us-east-1",
        [
            ConfigIssue(
                "network.cidr",
                "10.0.0.0/15",
                "prefix /15 is outside /16../24",
                "use a /16 to /24 network",
            )
        ],
    ),
    (
        "narrower than /24",
        NetworkSpec("10.1.1.0/25"),
        "aws",
        "us-east-1",
        [
            ConfigIssue(
                "network.cidr",
                "10.1.1.0/25",
                "prefix /25 is outside /16../24",
                "use a /16 to /24 network",
            )
        ],
    ),
    (
        "no zones",
        NetworkSpec("10.1.0.0/16", zone_count=0),
        "aws",
        "us-east-1",
        [ConfigIssue("network.zoneCount", 0, "must be at least 1", "set 1 or more")],
    ),
    (
        "more zones than the region has",
        NetworkSpec("10.1.0.0/16", zone_count=3),
        "aws",
        "us-west-1",
        [ConfigIssue("network.zoneCount", 3, "us-west-1 has only 2 zones", "use at most 2")],
    ),
    (
        "every zone the region has",
        NetworkSpec("10.1.0.0/16", zone_count=2),
        "aws",
        "us-west-1",
        [],
    ),
    (
        # A site is not in the zone catalogue: no cap to apply.
        "a libvirt site",
        NetworkSpec("10.1.0.0/16", zone_count=3),
        "libvirt",
        "lab",
        [],
    ),
]


@pytest.mark.parametrize(
    ("network", "target", "region", "expected"),
    [c[1:] for c in NETWORK],
    ids=[c[0] for c in NETWORK],
)
def test_validate_network(
    network: NetworkSpec, target: str, region: str, expected: list[ConfigIssue]
) -> None:
    assert validate_network(network, target, region) == expected


DATABASE: list[tuple[str, dict[str, Any], list[ConfigIssue]]] = [
    ("defaults", {}, []),
    (
        "size unknown",
        {"size": "tiny"},
        [ConfigIssue("database.size", "tiny", "unknown size", SIZES)],
    ),
    (
        "engine version unsupported",
        {"engine_version": "13"},
        [
            ConfigIssue(
                "database.engineVersion",
                "13",
                "unsupported PostgreSQL major version",
                "use one of 14, 15, 16, 17",
            )
        ],
    ),
    ("newest engine version", {"engine_version": "17"}, []),
    (
        "no storage",
        {"storage_gb": 0},
        [ConfigIssue("database.storageGb", 0, "must be positive", "use a number above 0 GiB")],
    ),
    ("one GiB", {"storage_gb": 1}, []),
    (
        "negative backup retention",
        {"backup_retention_days": -1},
        [ConfigIssue("database.backupRetentionDays", -1, "outside 0..35 days", "use 0 to 35")],
    ),
    (
        "backup retention above 35",
        {"backup_retention_days": 36},
        [ConfigIssue("database.backupRetentionDays", 36, "outside 0..35 days", "use 0 to 35")],
    ),
    ("no backups", {"backup_retention_days": 0}, []),
    ("35 days of backups", {"backup_retention_days": 35}, []),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in DATABASE], ids=[c[0] for c in DATABASE]
)
def test_validate_database(changes: dict[str, Any], expected: list[ConfigIssue]) -> None:
    assert validate_database(DatabaseSpec(**changes)) == expected


PRODUCTION = EnvironmentSpec(
    network=NetworkSpec("10.1.0.0/16", zone_count=2),
    database=DatabaseSpec(
        high_availability=True, backup_retention_days=7, deletion_protection=True
    ),
    protect_data=True,
)


def production(network: dict[str, Any] | None = None, **changes: Any) -> EnvironmentSpec:
    """PRODUCTION with one rule broken: database fields by keyword, the network or protectData."""
    spec = dataclasses.replace(
        PRODUCTION, database=dataclasses.replace(PRODUCTION.database, **changes.pop("db", {}))
    )
    if network:
        spec = dataclasses.replace(spec, network=dataclasses.replace(spec.network, **network))
    return dataclasses.replace(spec, **changes)


TIER: list[tuple[str, EnvironmentSpec, str, int, list[ConfigIssue]]] = [
    ("production spec in production", PRODUCTION, "production", 3, []),
    (
        "one zone",
        production(network={"zone_count": 1}),
        "production",
        3,
        [
            ConfigIssue(
                "network.zoneCount",
                1,
                "production needs at least 2 zones",
                "set network.zoneCount to 2 or more",
            )
        ],
    ),
    # A single-zone site gets its HA from the standby: one zone is all it can have.
    ("one zone on a single-zone site", production(network={"zone_count": 1}), "production", 1, []),
    (
        "no standby",
        production(db={"high_availability": False}),
        "production",
        3,
        [
            ConfigIssue(
                "database.highAvailability",
                False,
                "production needs a highly available database",
                "set database.highAvailability: true",
            )
        ],
    ),
    (
        "six days of backups",
        production(db={"backup_retention_days": 6}),
        "production",
        3,
        [
            ConfigIssue(
                "database.backupRetentionDays",
                6,
                "production keeps backups at least 7 days",
                "set it to 7 or more",
            )
        ],
    ),
    (
        "database may be deleted",
        production(db={"deletion_protection": False}),
        "production",
        3,
        [
            ConfigIssue(
                "database.deletionProtection",
                False,
                "production databases must refuse deletion",
                "set database.deletionProtection: true",
            )
        ],
    ),
    (
        "data unprotected",
        production(protect_data=False),
        "production",
        3,
        [
            ConfigIssue(
                "protectData",
                False,
                "production data resources must be protected",
                "set protectData: true",
            )
        ],
    ),
    (
        # The defaults break every production rule; other tiers have none.
        "defaults in preproduction",
        EnvironmentSpec(network=NetworkSpec("10.1.0.0/16", zone_count=1)),
        "preproduction",
        3,
        [],
    ),
    (
        "defaults in development",
        EnvironmentSpec(network=NetworkSpec("10.1.0.0/16", zone_count=1)),
        "development",
        3,
        [],
    ),
]


@pytest.mark.parametrize(
    ("spec", "tier", "zones", "expected"), [c[1:] for c in TIER], ids=[c[0] for c in TIER]
)
def test_validate_tier(
    spec: EnvironmentSpec, tier: str, zones: int, expected: list[ConfigIssue]
) -> None:
    assert validate_tier(spec, tier, zones) == expected


def node(name: str, cidr: str | None = None, upstream: str | None = None, **kw: Any) -> StageNode:
    fields: dict[str, Any] = {"target": "aws", "region": "us-east-1", **kw}
    return StageNode(name=name, cidr=cidr, promotes_from=upstream, **fields)


CYCLE_FIX = (
    "make one stage of the cycle an entry stage: remove its promotesFrom and pin stageline:release"
)
GRAPH: list[tuple[str, list[StageNode], list[ConfigIssue]]] = [
    ("a chain", [node("a", "10.1.0.0/16"), node("b", "10.1.0.0/16", "a")], []),
    (
        "unknown upstream",
        [node("a"), node("b", upstream="z")],
        [
            ConfigIssue(
                "promotesFrom",
                "z",
                "no such stage in stacks/",
                "use one of a, b, or add stacks/Pulumi.z.yaml",
                stack="b",
            )
        ],
    ),
    (
        "route to an unknown stage",
        [node("a", routable_with=("z",))],
        [
            ConfigIssue(
                "routableWith", ["z"], "names unknown stage 'z'", "use stages from a", stack="a"
            )
        ],
    ),
    (
        "a cycle of three, reported once",
        [node("a", upstream="c"), node("b", upstream="a"), node("c", upstream="b")],
        [
            ConfigIssue(
                "promotesFrom",
                "c",
                "stages promote in a cycle: a <- c <- b <- a",
                CYCLE_FIX,
                stack="a",
            )
        ],
    ),
    (
        "DR in its primary's region",
        [node("p"), node("dr", upstream="p", is_dr=True)],
        [
            ConfigIssue(
                "region",
                "us-east-1",
                "a DR replica must not share its primary's region (p is in it)",
                "choose a aws region other than us-east-1",
                stack="dr",
            )
        ],
    ),
    (
        # A replica is built from its primary's services: another target cannot host it
        # (and the same region name there is another place, so only the target is reported).
        "DR on another target",
        [node("p"), node("dr", upstream="p", is_dr=True, target="gcp")],
        [
            ConfigIssue(
                "target",
                "gcp",
                "a DR replica runs on its primary's target; p is on aws",
                "set target: aws and a second aws region or site",
                stack="dr",
            )
        ],
    ),
    (
        "DR whose primary keeps no backups",
        [node("p", backup_days=0), node("dr", upstream="p", is_dr=True, region="us-west-2")],
        [
            ConfigIssue(
                "database.backupRetentionDays",
                0,
                "primary p of DR stage dr keeps no backups, so its database cannot be replicated",
                "set database.backupRetentionDays to 1 or more in stacks/Pulumi.p.yaml",
                stack="p",
            )
        ],
    ),
    (
        "DR whose primary keeps one day of backups",
        [node("p", backup_days=1), node("dr", upstream="p", is_dr=True, region="us-west-2")],
        [],
    ),
    (
        "a stage without DR may promote from one without backups",
        [node("p", backup_days=0), node("q", upstream="p")],
        [],
    ),
    (
        # Without DR, sharing a region is what stages normally do.
        "a downstream stage in its upstream's region",
        [node("p"), node("q", upstream="p")],
        [],
    ),
    (
        "DR overlapping its primary",
        [node("p", "10.1.0.0/16"), node("dr", "10.1.0.0/24", "p", is_dr=True, region="us-west-2")],
        [
            ConfigIssue(
                "network.cidr",
                "10.1.0.0/24",
                "overlaps p's 10.1.0.0/16, its DR primary; routed networks need distinct ranges",
                "choose a range that does not overlap 10.1.0.0/16",
                stack="dr",
            )
        ],
    ),
    (
        "routed stages overlapping",
        [node("a", "10.1.0.0/16", routable_with=("b",)), node("b", "10.1.2.0/24")],
        [
            ConfigIssue(
                "network.cidr",
                "10.1.0.0/16",
                "overlaps b's 10.1.2.0/24, a stage it routes to; routed networks need "
                "distinct ranges",
                "choose a range that does not overlap 10.1.2.0/24",
                stack="a",
            )
        ],
    ),
    (
        # Stages that do not route to each other may reuse a range.
        "unrouted stages overlapping",
        [node("a", "10.1.0.0/16"), node("b", "10.1.0.0/16")],
        [],
    ),
    (
        # A malformed CIDR is the stage's own validation's to report.
        "routed stage with a malformed CIDR",
        [node("a", "10.1.0.0/33", routable_with=("b",)), node("b", "10.1.0.0/16")],
        [],
    ),
    ("routed stages without a CIDR", [node("a", routable_with=("b",)), node("b")], []),
]


@pytest.mark.parametrize(("nodes", "expected"), [c[1:] for c in GRAPH], ids=[c[0] for c in GRAPH])
def test_validate_graph(nodes: list[StageNode], expected: list[ConfigIssue]) -> None:
    assert validate_graph({n.name: n for n in nodes}) == expected
