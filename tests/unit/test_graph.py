"""The stage graph drawn from stack files: order, ancestry, and its validation table."""

from __future__ import annotations

from typing import Any

import pytest

from stageline.graph import graph_from_values, load_stage_graph, validate_graph
from stageline.stack_files import find_stack, list_stack_files
from tests.conftest import REPO_STACKS


def stage(cidr: str, upstream: str | None = None, region: str = "us-east-1", **extra: Any):
    values: dict[str, Any] = {"target": "aws", "region": region, "network": {"cidr": cidr}}
    if upstream:
        values["promotesFrom"] = upstream
    return {**values, **extra}


def test_repo_graph_orders_every_upstream_first() -> None:
    graph = load_stage_graph(REPO_STACKS)
    order = graph.order()
    for upstream, downstream in graph.edges():
        assert order.index(upstream) < order.index(downstream), (upstream, downstream, order)
    for name in graph.nodes:
        ancestors = graph.ancestors(name)
        assert all(order.index(a) < order.index(name) for a in ancestors), (name, order)


# (case, stacks, offending stack, key, fragment)
GRAPH_CASES = [
    (
        "unknown upstream",
        {"a": stage("10.1.0.0/16"), "b": stage("10.2.0.0/16", "nope")},
        "b",
        "promotesFrom",
        "no such stage",
    ),
    (
        "two-stage cycle",
        {"a": stage("10.1.0.0/16", "b"), "b": stage("10.2.0.0/16", "a")},
        "a",
        "promotesFrom",
        "cycle",
    ),
    (
        "DR in primary region",
        {
            "prod": stage("10.1.0.0/16"),
            "dr": stage("10.2.0.0/16", "prod", disasterRecovery={"mode": "pilot-light"}),
        },
        "dr",
        "region",
        "must not share",
    ),
    (
        "DR overlapping primary",
        {
            "prod": stage("10.1.0.0/16"),
            "dr": stage(
                "10.1.128.0/17", "prod", "us-west-2", disasterRecovery={"mode": "warm-standby"}
            ),
        },
        "dr",
        "network.cidr",
        "overlaps",
    ),
    (
        "on-prem overlapping a cloud stage it routes to",
        {"prod": stage("10.1.0.0/16"), "onprem": stage("10.1.0.0/24", routableWith=["prod"])},
        "onprem",
        "network.cidr",
        "overlaps",
    ),
]


@pytest.mark.parametrize(
    ("stacks", "offender", "key", "fragment"),
    [c[1:] for c in GRAPH_CASES],
    ids=[c[0] for c in GRAPH_CASES],
)
def test_graph_validation(stacks: dict, offender: str, key: str, fragment: str) -> None:
    issues = validate_graph(graph_from_values(stacks))
    assert [(i.stack, i.key) for i in issues] == [(offender, key)], issues
    assert fragment in issues[0].problem
    assert issues[0].fix


def test_unrelated_stages_may_share_a_range() -> None:
    # Stages that never route to each other (dev and test) may reuse addresses.
    stacks = {"dev": stage("10.1.0.0/16"), "test": stage("10.1.0.0/16", "dev")}
    assert validate_graph(graph_from_values(stacks)) == []


def test_ephemeral_stack_uses_its_template_file() -> None:
    stacks = {s.name: s for s in list_stack_files(REPO_STACKS)}
    found = find_stack("ci-pr-1234", stacks)
    assert found is not None and found.name == "ci-pr-1234"
    assert found.values == stacks["ci"].values
    assert find_stack("nonexistent", stacks) is None
