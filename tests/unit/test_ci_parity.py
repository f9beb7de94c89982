"""Parity of two stages: `compare` on hand-built plans and configs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.spec import parse_spec
from stageline.ci.parity import compare
from stageline.ci.report import ParityItem
from stageline.config import StageConfig
from stageline.model import DisasterRecovery
from stageline.plan.recorder import STACK_TYPE, PlannedResource
from stageline.plan.runner import StagePlan

BASE_VALUES: dict[str, Any] = {
    "network": {"cidr": "10.10.0.0/16", "zoneCount": 2},
    "compute": {"size": "small", "minCount": 1, "maxCount": 2},
    "database": {"size": "small", "storageGb": 20},
}


def config(
    stack: str,
    edits: Mapping[str, Mapping[str, Any]] | None = None,
    **fields: Any,
) -> StageConfig:
    """A validated spec from BASE_VALUES with `edits` merged into its sections."""
    values = {k: dict(v) for k, v in BASE_VALUES.items()}
    for section, changes in (edits or {}).items():
        values.setdefault(section, {}).update(changes)
    spec, issues = parse_spec(values)
    assert spec is not None and not issues, issues
    settings: dict[str, Any] = {
        "stack": stack,
        "stage": stack,
        "tier": "development",
        "target": "aws",
        "region": "us-east-2",
        "spec": spec,
    }
    settings.update(fields)
    return StageConfig(**settings)


def plan(stack: str, resources: Mapping[tuple[str | None, str], int]) -> StagePlan:
    """A plan of `{(concern, type): count}`: each concern a component under the stack, each
    resource a custom child of its concern (None: directly under the stack)."""
    root = f"urn:pulumi:{stack}::stageline::{STACK_TYPE}::stageline-{stack}"
    planned = [PlannedResource(root, STACK_TYPE, f"stageline-{stack}", "", False, False, False)]
    components: dict[str, str] = {}
    for (concern, kind), count in resources.items():
        parent = root
        if concern is not None:
            if concern not in components:
                token = f"stageline:{concern}:Thing"
                urn = f"urn:pulumi:{stack}::stageline::{token}::{stack}-{concern}"
                planned.append(PlannedResource(urn, token, concern, root, False, False, False))
                components[concern] = urn
            parent = components[concern]
        for i in range(count):
            name = f"{stack}-{kind.rsplit(':', 1)[-1].lower()}-{i}"
            urn = f"urn:pulumi:{stack}::stageline::{kind}::{name}"
            planned.append(PlannedResource(urn, kind, name, parent, True, False, False))
    return StagePlan(stack, resources=planned)


STANDARD = {
    ("network", "cloud:net:Subnet"): 4,
    ("compute", "cloud:compute:Group"): 1,
    ("database", "cloud:db:Instance"): 1,
    ("storage", "cloud:store:Bucket"): 1,
}


def by_subject(items: list[ParityItem]) -> dict[str, ParityItem]:
    subjects = [i.subject for i in items]
    assert len(subjects) == len(set(subjects)), subjects
    return {i.subject: i for i in items}


def test_equal_stages_have_nothing_to_report() -> None:
    assert compare(plan("a", STANDARD), plan("b", STANDARD), config("a"), config("b")) == []


def test_each_stage_own_network_is_not_a_difference() -> None:
    other = config("b", {"network": {"cidr": "10.20.0.0/16"}})
    assert compare(plan("a", STANDARD), plan("b", STANDARD), config("a"), other) == []


def test_differing_sizes_are_expected_and_name_both_sides() -> None:
    big = config("prod", {"compute": {"size": "large"}, "database": {"storageGb": 200}})
    items = by_subject(compare(plan("qa", STANDARD), plan("prod", STANDARD), config("qa"), big))
    assert set(items) == {"compute.size", "database.storageGb"}
    assert items["compute.size"].kind == "expected"
    assert items["compute.size"].detail == "small in qa, large in prod"
    assert items["database.storageGb"].detail == "20 in qa, 200 in prod"
    assert all(i.peer == "prod" for i in items.values())


def test_a_count_difference_of_one_type_is_expected_with_its_concern_values() -> None:
    wider = {**STANDARD, ("network", "cloud:net:Subnet"): 6}
    items = by_subject(
        compare(
            plan("a", STANDARD),
            plan("b", wider),
            config("a"),
            config("b", {"network": {"zoneCount": 3}}),
        )
    )
    subnet = items["cloud:net:Subnet"]
    assert subnet.kind == "expected"
    assert subnet.detail.startswith("4 in a, 6 in b")
    assert "network.zoneCount" in subnet.detail
    assert items["network.zoneCount"].kind == "expected"


def test_a_type_missing_on_one_side_without_a_config_reason_is_structural() -> None:
    missing = {k: v for k, v in STANDARD.items() if k[1] != "cloud:store:Bucket"}
    items = by_subject(compare(plan("a", STANDARD), plan("b", missing), config("a"), config("b")))
    assert set(items) == {"cloud:store:Bucket"}
    bucket = items["cloud:store:Bucket"]
    assert bucket.kind == "structural"
    assert bucket.detail.startswith("1 in a, 0 in b")
    assert "storage" in bucket.detail


def test_a_type_missing_where_an_unrelated_concern_differs_is_still_structural() -> None:
    missing = {k: v for k, v in STANDARD.items() if k[1] != "cloud:store:Bucket"}
    items = by_subject(
        compare(
            plan("a", STANDARD),
            plan("b", missing),
            config("a"),
            config("b", {"compute": {"size": "large"}}),
        )
    )
    assert items["cloud:store:Bucket"].kind == "structural"
    assert items["compute.size"].kind == "expected"


def test_a_standby_the_database_section_asks_for_is_expected() -> None:
    with_standby = {**STANDARD, ("database", "cloud:db:Standby"): 1}
    items = by_subject(
        compare(
            plan("qa", STANDARD),
            plan("prod", with_standby),
            config("qa"),
            config("prod", {"database": {"highAvailability": True}}),
        )
    )
    standby = items["cloud:db:Standby"]
    assert standby.kind == "expected"
    assert "database.highAvailability" in standby.detail
    assert items["database.highAvailability"].detail == "false in qa, true in prod"


def test_a_dr_replica_own_resources_are_expected() -> None:
    replica = {**STANDARD, ("routing", "cloud:dns:Record"): 2, ("storage", "cloud:store:Rule"): 1}
    dr = DisasterRecovery(mode="pilot-light")
    items = by_subject(
        compare(
            plan("prod", STANDARD),
            plan("prod-dr", replica),
            config("prod"),
            config("prod-dr", disaster_recovery=dr, promotes_from="prod"),
        )
    )
    for kind in ("cloud:dns:Record", "cloud:store:Rule"):
        assert items[kind].kind == "expected", items[kind]
        assert "disasterRecovery" in items[kind].detail
    assert items["disasterRecovery.mode"].detail == "unset in prod, pilot-light in prod-dr"


def test_routing_without_dr_is_structural() -> None:
    # The same routing resources, but nothing in either stage's config asks for them.
    routed = {**STANDARD, ("routing", "cloud:dns:Record"): 2}
    items = by_subject(compare(plan("a", STANDARD), plan("b", routed), config("a"), config("b")))
    assert items["cloud:dns:Record"].kind == "structural"


def test_a_target_concern_is_explained_by_the_target_own_section() -> None:
    with_site = {**STANDARD, ("site", "cloud:site:Pool"): 1}
    same = compare(
        plan("a", STANDARD),
        plan("b", with_site),
        config("a", target_settings={"uri": "x"}),
        config("b", target_settings={"uri": "x"}),
    )
    assert by_subject(same)["cloud:site:Pool"].kind == "structural"
    differing = by_subject(
        compare(
            plan("a", STANDARD),
            plan("b", with_site),
            config("a", target_settings={"uri": "x"}),
            config("b", target_settings={"uri": "y"}),
        )
    )
    assert differing["cloud:site:Pool"].kind == "expected"
    assert differing["aws.uri"].detail == "x in a, y in b"


def test_the_upstream_reference_is_explained_by_promotion() -> None:
    promoted = {**STANDARD, (None, "pulumi:pulumi:StackReference"): 1}
    items = by_subject(
        compare(
            plan("dev", STANDARD),
            plan("test", promoted),
            config("dev"),
            config("test", promotes_from="dev"),
        )
    )
    assert items["pulumi:pulumi:StackReference"].kind == "expected"
    # Nothing else differs: promotesFrom is each stage's identity, not a reported difference.
    assert set(items) == {"pulumi:pulumi:StackReference"}
    unexplained = by_subject(
        compare(plan("a", STANDARD), plan("b", promoted), config("a"), config("b"))
    )
    assert unexplained["pulumi:pulumi:StackReference"].kind == "structural"


def test_a_type_under_two_concerns_needs_both_explained() -> None:
    keys = {**STANDARD, ("database", "cloud:kms:Key"): 1, ("storage", "cloud:kms:Key"): 1}
    items = by_subject(
        compare(
            plan("a", STANDARD),
            plan("b", keys),
            config("a"),
            config("b", {"database": {"size": "large"}}),
        )
    )
    key = items["cloud:kms:Key"]
    assert key.kind == "structural"
    assert "storage" in key.detail and "database" not in key.detail.split(";")[1]


def test_another_target_explains_every_type() -> None:
    other = {("network", "other:net:Net"): 1, ("compute", "other:vm:Set"): 1}
    items = compare(plan("a", STANDARD), plan("b", other), config("a"), config("b", target="gcp"))
    assert {i.kind for i in items} == {"expected"}
    subjects = {i.subject for i in items}
    assert {t for _, t in STANDARD} | {"other:net:Net", "other:vm:Set", "target"} <= subjects
