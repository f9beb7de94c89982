"""What a DR stage reads from its primary's contract, and the DR keys of a stack file."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.dr import NEEDED, ReplicaPlan, ReplicaSource, missing_keys, replica_source
from components.errors import ConfigIssue
from components.model import validate
from stageline.graph import StageNode, replica_cidrs
from stageline.model import DisasterRecovery

PRIMARY: dict[str, Any] = {
    "region": "dc1",
    "network": {"id": "n-uuid", "cidr": "10.70.0.0/24", "site": "qemu+ssh://root@h/system"},
    "database": {"resourceId": "d-uuid", "endpoint": "10.70.0.2", "engineVersion": "15"},
    "storage": {"resourceId": "p-uuid", "bucket": "onprem-data"},
    "compute": {"minCount": 2},
    "ingress": {"endpoint": "http://10.70.0.4/", "address": "10.70.0.4"},
    "replication": {"user": "stageline", "password": "s3cret"},
}


def test_a_whole_contract_gives_every_field() -> None:
    assert missing_keys(PRIMARY) == []
    assert replica_source("onprem", PRIMARY) == ReplicaSource(
        stage="onprem",
        region="dc1",
        site="qemu+ssh://root@h/system",
        network_id="n-uuid",
        cidr="10.70.0.0/24",
        database_id="d-uuid",
        database_endpoint="10.70.0.2",
        engine_version="15",
        storage_id="p-uuid",
        bucket="onprem-data",
        compute_min_count=2,
        ingress_endpoint="http://10.70.0.4/",
        ingress_address="10.70.0.4",
        replication_user="stageline",
        replication_password="s3cret",
    )


@pytest.mark.parametrize("path", NEEDED, ids=".".join)
def test_each_missing_key_is_named(path: tuple[str, ...]) -> None:
    for empty in (None, ""):
        outputs = copy.deepcopy(PRIMARY)
        parent = outputs
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = empty
        assert missing_keys(outputs) == [".".join(path)]
        with pytest.raises(ValueError, match=f"its outputs lack {'.'.join(path)}$"):
            replica_source("onprem", outputs)


def test_a_section_that_is_not_an_object_lacks_its_keys() -> None:
    outputs = {**PRIMARY, "database": "d-uuid"}
    assert missing_keys(outputs) == [
        "database.resourceId",
        "database.endpoint",
        "database.engineVersion",
    ]
    assert missing_keys({}) == [".".join(p) for p in NEEDED]


SOURCE = replica_source("onprem", PRIMARY)


@pytest.mark.parametrize(
    ("mode", "role", "own", "expected"),
    [
        ("pilot-light", "standby", 3, 0),
        ("warm-standby", "standby", 1, 1),
        ("warm-standby", "active", 1, 2),  # the primary ran 2
        ("pilot-light", "active", 1, 2),
        ("warm-standby", "active", 5, 5),  # never fewer than its own minimum
    ],
)
def test_compute_follows_mode_and_role(mode: str, role: str, own: int, expected: int) -> None:
    plan = ReplicaPlan(SOURCE, mode, role)  # type: ignore[arg-type]
    assert plan.compute_count(own) == expected
    assert plan.active is (role == "active")


@pytest.mark.parametrize(
    ("raw", "issues"),
    [
        ({"mode": "pilot-light"}, []),
        ({"mode": "warm-standby", "role": "active", "rpoSeconds": 1, "rtoSeconds": 1}, []),
        ({"mode": "pilot-light", "dnsZone": "a-b.example.internal"}, []),
        (
            {"mode": "pilot-light", "role": "primary"},
            [("role", "primary", "unknown DR role")],
        ),
        (
            {"mode": "pilot-light", "rpoSeconds": 0},
            [("rpoSeconds", 0, "not a positive number of seconds")],
        ),
        (
            {"mode": "pilot-light", "rtoSeconds": -5},
            [("rtoSeconds", -5, "not a positive number of seconds")],
        ),
        (
            {"mode": "pilot-light", "rtoSeconds": "fast"},
            [("rtoSeconds", "fast", "not a positive number of seconds")],
        ),
        (
            {"mode": "pilot-light", "dnsZone": "example.internal."},
            [("dnsZone", "example.internal.", "not a DNS zone")],
        ),
        ({"mode": "pilot-light", "dnsZone": "Example"}, [("dnsZone", "Example", "not a DNS zone")]),
        (
            {"mode": "pilot-light", "dnsZone": "-a.internal"},
            [("dnsZone", "-a.internal", "not a DNS zone")],
        ),
        (
            {"mode": "pilot-light", "dnsZone": "a b.internal"},
            [("dnsZone", "a b.internal", "not a DNS zone")],
        ),
    ],
    ids=repr,
)
def test_dr_keys_are_validated(raw: dict[str, Any], issues: list[tuple[str, Any, str]]) -> None:
    model, found = validate(DisasterRecovery, raw)
    assert [(i.key, i.value, i.problem) for i in found] == issues
    assert all(isinstance(i, ConfigIssue) and i.fix for i in found)
    assert (model is None) == bool(issues)


def test_defaults_of_the_dr_keys() -> None:
    model, _ = validate(DisasterRecovery, {"mode": "warm-standby"})
    assert model == DisasterRecovery("warm-standby", "standby", 300, 900, None, None)


def node(name: str, cidr: str, upstream: str | None = None, **kw: Any) -> StageNode:
    return StageNode(name, "libvirt", "dc1", cidr, promotes_from=upstream, **kw)


def test_replica_ranges_come_from_the_graph() -> None:
    nodes = {
        "local": node("local", "192.168.150.0/24"),
        "onprem": node("onprem", "10.70.0.0/24", "local"),
        "onprem-dr": node(
            "onprem-dr", "10.71.0.0/24", "onprem", is_dr=True, drill_cidr="10.72.0.0/24"
        ),
        "staging": node("staging", "10.80.0.0/24", "onprem"),
    }
    # The primary admits its replica and the replica's drills; a plain downstream stage is
    # not a replica.
    assert replica_cidrs(nodes, "onprem") == ("10.71.0.0/24", "10.72.0.0/24")
    # The replica admits its primary (a failback streams back from it).
    assert replica_cidrs(nodes, "onprem-dr") == ("10.70.0.0/24",)
    assert replica_cidrs(nodes, "local") == ()
    assert replica_cidrs(nodes, "staging") == ()


def test_every_missing_key_is_named_at_once() -> None:
    outputs = {k: v for k, v in PRIMARY.items() if k not in ("compute", "ingress")}
    with pytest.raises(ValueError) as refused:
        replica_source("onprem", outputs)
    assert str(refused.value) == (
        "its outputs lack compute.minCount, ingress.endpoint, ingress.address"
    )
