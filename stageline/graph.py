"""The stage graph, drawn from every `stacks/Pulumi.<stack>.yaml`.

Only the keys that relate stages are read here (the config model's StageKeys and the network
CIDR), and leniently, so one stage's bad sizes never block another's deploy; each stage's own
values are validated in full by `stageline.config` when it runs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.errors import ConfigIssue, raise_if_any
from components.model import read_leniently
from components.spec import DatabaseSpec, NetworkSpec
from stageline.config import StageConfig
from stageline.model import DEFAULT_TIER, stage_keys
from stageline.stack_files import StackFile, list_stack_files


@dataclass(frozen=True)
class StageNode:
    name: str
    """Stack name, the name other stages use in promotesFrom."""
    target: str
    region: str
    cidr: str | None
    tier: str = DEFAULT_TIER
    promotes_from: str | None = None
    routable_with: tuple[str, ...] = ()
    is_dr: bool = False
    backup_days: int | None = None
    """database.backupRetentionDays as written (None: the default); a DR primary needs backups."""
    drill_cidr: str | None = None
    """A DR stage's disasterRecovery.drillCidr: where its drills' scratch replicas run."""


def node_from_file(stack: StackFile) -> StageNode:
    """The stage's keys read through the config model, each bad one taking its default: the
    stage's own validation reports it, and it must not hide the rest of the graph."""
    keys = stage_keys(stack.values)
    network = read_leniently(NetworkSpec, stack.values.get("network"))
    database = read_leniently(DatabaseSpec, stack.values.get("database"))
    return StageNode(
        name=stack.name,
        target=keys.target or "",
        region=keys.region or "",
        cidr=network.cidr if network else None,
        tier=keys.tier_name,
        promotes_from=keys.promotes_from,
        routable_with=keys.routable_with,
        is_dr=keys.disaster_recovery is not None,
        backup_days=database.backup_retention_days if database else None,
        drill_cidr=keys.disaster_recovery.drill_cidr if keys.disaster_recovery else None,
    )


def node_from_config(config: StageConfig) -> StageNode:
    return StageNode(
        name=config.stack,
        target=config.target,
        region=config.region,
        cidr=config.spec.network.cidr,
        tier=config.tier,
        promotes_from=config.promotes_from,
        routable_with=config.routable_with,
        is_dr=config.disaster_recovery is not None,
        backup_days=config.spec.database.backup_retention_days,
        drill_cidr=config.disaster_recovery.drill_cidr if config.disaster_recovery else None,
    )


@dataclass(frozen=True)
class StageGraph:
    nodes: dict[str, StageNode]

    def upstream(self, name: str) -> StageNode | None:
        parent = self.nodes[name].promotes_from
        return self.nodes.get(parent) if parent else None

    def downstream(self, name: str) -> list[StageNode]:
        return [n for n in self.nodes.values() if n.promotes_from == name]

    def ancestors(self, name: str) -> list[str]:
        """Upstream chain, nearest first (the graph is validated acyclic)."""
        chain: list[str] = []
        current = self.nodes[name].promotes_from
        while current:
            chain.append(current)
            current = self.nodes[current].promotes_from
        return chain

    def order(self) -> list[str]:
        """Stages so that every upstream comes before its downstream stages."""
        ordered: list[str] = []
        for name in sorted(self.nodes):
            for stage in [*reversed(self.ancestors(name)), name]:
                if stage not in ordered:
                    ordered.append(stage)
        return ordered

    def edges(self) -> list[tuple[str, str]]:
        return sorted((n.promotes_from, n.name) for n in self.nodes.values() if n.promotes_from)


def _cycle_from(name: str, nodes: Mapping[str, StageNode]) -> list[str] | None:
    seen: list[str] = []
    current: str | None = name
    while current is not None and current in nodes:
        if current in seen:
            return [*seen[seen.index(current) :], current]
        seen.append(current)
        current = nodes[current].promotes_from
    return None


def _overlap(a: str | None, b: str | None) -> bool:
    try:
        return bool(a and b and ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b)))
    except ValueError:
        return False  # a malformed CIDR is reported by the stage's own validation


def _routable_pairs(nodes: Mapping[str, StageNode]) -> Iterable[tuple[StageNode, StageNode, str]]:
    for node in nodes.values():
        if node.is_dr and node.promotes_from in nodes:
            yield node, nodes[node.promotes_from], "its DR primary"
        for other in node.routable_with:
            if other in nodes:
                yield node, nodes[other], "a stage it routes to"


def _dr_primary_issues(node: StageNode, upstream: StageNode | None) -> list[ConfigIssue]:
    """A replica is built from its primary's services: the same target, and backups on (a
    cloud replica is seeded from them; a drill or failback needs them)."""
    if not node.is_dr or upstream is None:
        return []
    issues = []
    if upstream.target and node.target and upstream.target != node.target:
        issues.append(
            ConfigIssue(
                "target",
                node.target,
                f"a DR replica runs on its primary's target; "
                f"{upstream.name} is on {upstream.target}",
                f"set target: {upstream.target} and a second {upstream.target} region or site",
                stack=node.name,
            )
        )
    if upstream.backup_days is not None and upstream.backup_days <= 0:
        issues.append(
            ConfigIssue(
                "database.backupRetentionDays",
                upstream.backup_days,
                f"primary {upstream.name} of DR stage {node.name} keeps no backups, so its "
                "database cannot be replicated",
                "set database.backupRetentionDays to 1 or more in "
                f"stacks/Pulumi.{upstream.name}.yaml",
                stack=upstream.name,
            )
        )
    return issues


def replica_cidrs(nodes: Mapping[str, StageNode], name: str) -> tuple[str, ...]:
    """Ranges that may replicate `name`'s database: its DR replicas and their drills' scratch
    replicas (known before any drill runs, so a drill needs no change to the primary), and a
    DR stage's primary (which streams back from it in a failback)."""
    node = nodes[name]
    found = [
        cidr
        for n in nodes.values()
        if n.is_dr and n.promotes_from == name
        for cidr in (n.cidr, n.drill_cidr)
    ]
    if node.is_dr and node.promotes_from in nodes:
        found.append(nodes[node.promotes_from].cidr)
    return tuple(sorted(c for c in found if c))


def validate_graph(nodes: Mapping[str, StageNode]) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    names = ", ".join(sorted(nodes))
    reported_cycles: set[frozenset[str]] = set()
    for node in nodes.values():
        if node.promotes_from and node.promotes_from not in nodes:
            issues.append(
                ConfigIssue(
                    "promotesFrom",
                    node.promotes_from,
                    "no such stage in stacks/",
                    f"use one of {names}, or add stacks/Pulumi.{node.promotes_from}.yaml",
                    stack=node.name,
                )
            )
        for other in node.routable_with:
            if other not in nodes:
                issues.append(
                    ConfigIssue(
                        "routableWith",
                        list(node.routable_with),
                        f"names unknown stage {other!r}",
                        f"use stages from {names}",
                        stack=node.name,
                    )
                )
        cycle = _cycle_from(node.name, nodes)
        if cycle and frozenset(cycle) not in reported_cycles:
            reported_cycles.add(frozenset(cycle))
            issues.append(
                ConfigIssue(
                    "promotesFrom",
                    node.promotes_from,
                    f"stages promote in a cycle: {' <- '.join(cycle)}",
                    "make one stage of the cycle an entry stage: remove its promotesFrom "
                    "and pin stageline:release",
                    stack=node.name,
                )
            )
        upstream = nodes.get(node.promotes_from or "")
        if (
            node.is_dr
            and upstream
            and (node.target, node.region) == (upstream.target, upstream.region)
        ):
            issues.append(
                ConfigIssue(
                    "region",
                    node.region,
                    f"a DR replica must not share its primary's region ({upstream.name} is in it)",
                    f"choose a {node.target} region other than {node.region}",
                    stack=node.name,
                )
            )
        issues += _dr_primary_issues(node, upstream)
    seen_pairs: set[frozenset[str]] = set()
    for a, b, relation in _routable_pairs(nodes):
        pair = frozenset((a.name, b.name))
        if pair in seen_pairs or not _overlap(a.cidr, b.cidr):
            continue
        seen_pairs.add(pair)
        issues.append(
            ConfigIssue(
                "network.cidr",
                a.cidr,
                f"overlaps {b.name}'s {b.cidr}, {relation}; routed networks need distinct ranges",
                f"choose a range that does not overlap {b.cidr}",
                stack=a.name,
            )
        )
    return issues


def load_stage_graph(folder: Path, current: StageConfig | None = None) -> StageGraph:
    """All stages in `folder`; `current` (the running stack's live config) replaces its file."""
    nodes = {f.name: node_from_file(f) for f in list_stack_files(folder)}
    if current is not None:
        nodes[current.stack] = node_from_config(current)
    raise_if_any(validate_graph(nodes), f"the stage graph ({folder})")
    return StageGraph(nodes)


def graph_from_values(values: Mapping[str, Mapping[str, Any]]) -> dict[str, StageNode]:
    """Nodes from in-memory stack configs, for tests and tools that build graphs by hand."""
    return {
        name: node_from_file(StackFile(name=name, path=Path(f"Pulumi.{name}.yaml"), values=dict(v)))
        for name, v in values.items()
    }
