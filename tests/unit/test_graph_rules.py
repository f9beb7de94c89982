"""The cross-stage rules on hand-built graphs: each case breaks exactly one rule.

Every expected issue is written out whole (key, value, problem, fix, stack): the message is
what a user reads, so a rule that fires with the wrong value or fix is a failure too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.errors import ConfigError, ConfigIssue
from stageline.graph import (
    StageGraph,
    StageNode,
    graph_from_values,
    load_stage_graph,
    node_from_file,
    validate_graph,
)
from stageline.stack_files import StackFile


def aws(cidr: str | None, upstream: str | None = None, region: str = "us-east-1", **extra: Any):
    values: dict[str, Any] = {"target": "aws", "region": region, **extra}
    if cidr is not None:
        values["network"] = {"cidr": cidr}
    if upstream:
        values["promotesFrom"] = upstream
    return values


DR = {"mode": "pilot-light"}

# (case, stacks, every issue expected)
CASES: list[tuple[str, dict[str, dict[str, Any]], list[ConfigIssue]]] = [
    (
        "unknown upstream",
        {"a": aws("10.1.0.0/16"), "b": aws("10.2.0.0/16", "nope")},
        [
            ConfigIssue(
                "promotesFrom",
                "nope",
                "no such stage in stacks/",
                "use one of a, b, or add stacks/Pulumi.nope.yaml",
                stack="b",
            )
        ],
    ),
    (
        "routableWith names an unknown stage",
        {"a": aws("10.1.0.0/16", routableWith=["ghost"]), "b": aws("10.2.0.0/16")},
        [
            ConfigIssue(
                "routableWith",
                ["ghost"],
                "names unknown stage 'ghost'",
                "use stages from a, b",
                stack="a",
            )
        ],
    ),
    (
        "two-stage cycle, reported once",
        {"a": aws("10.1.0.0/16", "b"), "b": aws("10.2.0.0/16", "a")},
        [
            ConfigIssue(
                "promotesFrom",
                "b",
                "stages promote in a cycle: a <- b <- a",
                "make one stage of the cycle an entry stage: remove its promotesFrom "
                "and pin stageline:release",
                stack="a",
            )
        ],
    ),
    (
        "the second of a stage's routes overlaps",
        {
            "a": aws("10.1.0.0/16", routableWith=["b", "c"]),
            "b": aws("10.2.0.0/16"),
            "c": aws("10.1.0.0/24"),
        },
        [
            ConfigIssue(
                "network.cidr",
                "10.1.0.0/16",
                "overlaps c's 10.1.0.0/24, a stage it routes to; routed networks need "
                "distinct ranges",
                "choose a range that does not overlap 10.1.0.0/24",
                stack="a",
            )
        ],
    ),
    (
        "a stage promoting from itself",
        {"a": aws("10.1.0.0/16", "a")},
        [
            ConfigIssue(
                "promotesFrom",
                "a",
                "stages promote in a cycle: a <- a",
                "make one stage of the cycle an entry stage: remove its promotesFrom "
                "and pin stageline:release",
                stack="a",
            )
        ],
    ),
    (
        "DR replica in its primary's region",
        {"prod": aws("10.1.0.0/16"), "dr": aws("10.2.0.0/16", "prod", disasterRecovery=DR)},
        [
            ConfigIssue(
                "region",
                "us-east-1",
                "a DR replica must not share its primary's region (prod is in it)",
                "choose a aws region other than us-east-1",
                stack="dr",
            )
        ],
    ),
    (
        "DR replica overlapping its primary",
        {
            "prod": aws("10.1.0.0/16"),
            "dr": aws("10.1.128.0/17", "prod", "us-west-2", disasterRecovery=DR),
        },
        [
            ConfigIssue(
                "network.cidr",
                "10.1.128.0/17",
                "overlaps prod's 10.1.0.0/16, its DR primary; routed networks need distinct ranges",
                "choose a range that does not overlap 10.1.0.0/16",
                stack="dr",
            )
        ],
    ),
    (
        "overlapping a stage it routes to, reported once for the pair",
        {
            "prod": aws("10.1.0.0/16", routableWith=["onprem"]),
            "onprem": aws("10.1.0.0/24", routableWith=["prod"]),
        },
        [
            ConfigIssue(
                "network.cidr",
                "10.1.0.0/16",
                "overlaps onprem's 10.1.0.0/24, a stage it routes to; routed networks need "
                "distinct ranges",
                "choose a range that does not overlap 10.1.0.0/24",
                stack="prod",
            )
        ],
    ),
]


@pytest.mark.parametrize(("stacks", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_graph_rule(stacks: dict[str, dict[str, Any]], expected: list[ConfigIssue]) -> None:
    assert validate_graph(graph_from_values(stacks)) == expected


# Graphs each rule must let through: the boundary just inside every rule above.
VALID = [
    ("unrelated stages share a range", {"dev": aws("10.1.0.0/16"), "t": aws("10.1.0.0/16", "dev")}),
    (
        "DR replica in another region of its primary's target",
        {
            "prod": aws("10.1.0.0/16"),
            "dr": aws("10.2.0.0/16", "prod", "us-west-2", disasterRecovery=DR),
        },
    ),
    (
        "DR replica in another region with a distinct range",
        {
            "prod": aws("10.1.0.0/16"),
            "dr": aws("10.2.0.0/16", "prod", "us-west-2", disasterRecovery=DR),
        },
    ),
    (
        "a non-DR downstream in the upstream's region",
        {"prod": aws("10.1.0.0/16"), "next": aws("10.2.0.0/16", "prod")},
    ),
    (
        "adjacent ranges routed to each other",
        {"a": aws("10.1.0.0/24", routableWith=["b"]), "b": aws("10.1.1.0/24")},
    ),
    (
        "a routed stage with no network yet",
        {"a": aws(None, routableWith=["b"]), "b": aws("10.1.0.0/16")},
    ),
    (
        "a malformed range is left to the stage's own validation",
        {"a": aws("10.1.0.0/33", routableWith=["b"]), "b": aws("10.1.0.0/16")},
    ),
]


@pytest.mark.parametrize("stacks", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_graphs_within_the_rules_pass(stacks: dict[str, dict[str, Any]]) -> None:
    assert validate_graph(graph_from_values(stacks)) == []


def test_every_issue_is_reported_at_once() -> None:
    stacks = {
        "a": aws("10.1.0.0/16", "nope", routableWith=["ghost"]),
        "b": aws("10.2.0.0/16", "c"),
        "c": aws("10.3.0.0/16", "b"),
    }
    found = [(i.stack, i.key, i.value) for i in validate_graph(graph_from_values(stacks))]
    assert found == [
        ("a", "promotesFrom", "nope"),
        ("a", "routableWith", ["ghost"]),
        ("b", "promotesFrom", "c"),
    ]


def test_node_reads_only_the_relating_keys() -> None:
    stack = StackFile(
        name="dr",
        path=Path("Pulumi.dr.yaml"),
        values={
            "target": "aws",
            "region": "us-west-2",
            "tier": "production",
            "promotesFrom": "prod",
            "network": {"cidr": "10.9.0.0/16"},
            "routableWith": ["prod", "onprem"],
            "disasterRecovery": DR,
        },
    )
    assert node_from_file(stack) == StageNode(
        name="dr",
        target="aws",
        region="us-west-2",
        cidr="10.9.0.0/16",
        tier="production",
        promotes_from="prod",
        routable_with=("prod", "onprem"),
        is_dr=True,
    )


def test_node_defaults_for_a_sparse_or_malformed_file() -> None:
    stack = StackFile(
        name="x",
        path=Path("Pulumi.x.yaml"),
        values={"network": "10.0.0.0/16", "routableWith": "prod", "promotesFrom": ""},
    )
    assert node_from_file(stack) == StageNode(
        name="x",
        target="",
        region="",
        cidr=None,
        tier="development",
        promotes_from=None,
        routable_with=(),
        is_dr=False,
    )


CHAIN = {
    "dev": aws("10.1.0.0/16"),
    "test": aws("10.2.0.0/16", "dev"),
    "qa": aws("10.3.0.0/16", "test"),
    "ci": aws("10.4.0.0/16", "dev"),
    "alpha": aws("10.5.0.0/16", "qa"),
}


def test_graph_navigation() -> None:
    graph = StageGraph(graph_from_values(CHAIN))
    assert graph.upstream("qa") == graph.nodes["test"]
    assert graph.upstream("dev") is None
    assert sorted(n.name for n in graph.downstream("dev")) == ["ci", "test"]
    assert graph.downstream("alpha") == []
    assert graph.ancestors("alpha") == ["qa", "test", "dev"]
    assert graph.ancestors("dev") == []
    # "alpha" sorts first but needs its whole chain before it.
    assert graph.order() == ["dev", "test", "qa", "alpha", "ci"]
    assert graph.edges() == [("dev", "ci"), ("dev", "test"), ("qa", "alpha"), ("test", "qa")]


def test_load_refuses_a_broken_graph_naming_the_folder(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.a.yaml").write_text(
        "config:\n  stageline:target: aws\n  stageline:promotesFrom: nope\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_stage_graph(tmp_path)
    assert raised.value.where == f"the stage graph ({tmp_path})"
    assert [(i.stack, i.key, i.value) for i in raised.value.issues] == [
        ("a", "promotesFrom", "nope")
    ]


def test_every_overlapping_pair_is_reported() -> None:
    stacks = {
        "a": aws("10.1.0.0/16", routableWith=["b"]),
        "b": aws("10.1.0.0/24"),
        "c": aws("10.5.0.0/16", routableWith=["d"]),
        "d": aws("10.5.0.0/24"),
    }
    found = [(i.stack, i.key) for i in validate_graph(graph_from_values(stacks))]
    assert found == [("a", "network.cidr"), ("c", "network.cidr")]
