"""`parse_stage_config`'s own rules: one edit of a valid stack config per case, one issue each.

The config is pure data in, StageConfig or ConfigError out, so no engine or mocks are needed.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.errors import ConfigError, ConfigIssue
from components.spec import parse_spec
from stageline.config import (
    DisasterRecovery,
    ReleasePin,
    StageConfig,
    decode_engine_values,
    parse_stage_config,
)
from stageline.graph import load_stage_graph

DELETE = object()
QA: dict[str, Any] = {
    "stage": "qa",
    "tier": "preproduction",
    "target": "aws",
    "region": "us-east-1",
    "promotesFrom": "test",
    "network": {"cidr": "10.30.0.0/16"},
}
PIN = {"appVersion": "1.2.3", "artifact": "ghcr.io/acme/shop:1.2.3"}


def edited(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    values = {**base, **changes}
    return {k: v for k, v in values.items() if v is not DELETE}


DEV = edited(QA, stage="dev", tier="development", promotesFrom=DELETE)


def issues_of(stack: str, values: dict[str, Any], secret: frozenset[str] = frozenset()) -> list:
    with pytest.raises(ConfigError) as raised:
        parse_stage_config(stack, values, secret)
    assert raised.value.where == f"stack {stack!r}"
    return list(raised.value.issues)


def test_a_valid_config_parses_whole() -> None:
    values = edited(
        QA,
        routableWith=["prod"],
        disasterRecovery={"mode": "warm-standby"},
        release={**PIN, "templateRevision": "tpl-1"},
        dbPassword="s3cret",
    )
    spec, _ = parse_spec(values)
    assert parse_stage_config("qa-pr-7", values, {"dbPassword"}) == StageConfig(
        stack="qa-pr-7",
        stage="qa",
        tier="preproduction",
        target="aws",
        region="us-east-1",
        spec=spec,  # type: ignore[arg-type]
        promotes_from="test",
        routable_with=("prod",),
        disaster_recovery=DisasterRecovery("warm-standby"),
        release_pin=ReleasePin("1.2.3", "ghcr.io/acme/shop:1.2.3", "tpl-1"),
        has_db_password=True,
        target_settings={},
    )


def test_defaults_of_an_entry_stage() -> None:
    config = parse_stage_config("dev", edited(DEV, tier=DELETE, release=PIN), frozenset())
    assert config.tier == "development"
    assert config.release_pin == ReleasePin("1.2.3", "ghcr.io/acme/shop:1.2.3", None)
    assert (config.promotes_from, config.routable_with, config.disaster_recovery) == (
        None,
        (),
        None,
    )
    assert config.has_db_password is False


@pytest.mark.parametrize(("tier", "stack"), [("development", "dev"), ("ephemeral", "dev-42")])
def test_entry_tiers_may_run_a_pin_without_upstream(tier: str, stack: str) -> None:
    assert (
        parse_stage_config(stack, edited(DEV, tier=tier, release=PIN), frozenset()).stack == stack
    )


UPSTREAM_FIX = "set promotesFrom: to the stage before it (pin stageline:release for a hotfix)"
RELEASE_FIX = "set release: {appVersion: 1.2.3, artifact: registry/app:1.2.3}"
CASES: list[tuple[str, str, dict[str, Any], ConfigIssue]] = [
    (
        "stage missing",
        "qa",
        edited(QA, stage=DELETE),
        ConfigIssue("stage", None, "missing or not a stage name", "set stage: to e.g. qa"),
    ),
    (
        # The stack keeps a valid name: only the stage's own rule may answer.
        "stage with capitals",
        "qa",
        edited(QA, stage="QA"),
        ConfigIssue("stage", "QA", "missing or not a stage name", "set stage: to e.g. qa"),
    ),
    (
        "stage name of 41 characters",
        "qa",
        edited(QA, stage="q" * 41),
        ConfigIssue("stage", "q" * 41, "missing or not a stage name", "set stage: to e.g. qa"),
    ),
    (
        "stack named after another stage",
        "qa2",
        QA,
        ConfigIssue(
            "stage",
            "qa",
            "stack 'qa2' is neither 'qa' nor an ephemeral copy qa-<id>",
            "name the stack qa or qa-<id>, or fix stage",
        ),
    ),
    (
        "unknown tier",
        "qa",
        edited(QA, tier="prod"),
        ConfigIssue(
            "tier",
            "prod",
            "unknown tier",
            "use one of ephemeral, development, preproduction, production",
        ),
    ),
    (
        "target missing",
        "qa",
        edited(QA, target=DELETE),
        ConfigIssue(
            "target", None, "is required", "set target: to one of aws, azure, gcp, libvirt"
        ),
    ),
    (
        "region missing",
        "qa",
        edited(QA, region=""),
        ConfigIssue("region", None, "is required", "set region: to a aws region"),
    ),
    (
        "promotes from itself",
        "qa",
        edited(QA, promotesFrom="qa"),
        ConfigIssue(
            "promotesFrom", "qa", "a stage cannot promote from itself", "name the stage before it"
        ),
    ),
    (
        "DR replica without primary",
        "qa",
        edited(QA, promotesFrom=DELETE, disasterRecovery={"mode": "pilot-light"}),
        ConfigIssue(
            "promotesFrom",
            None,
            "a DR replica must name its primary",
            "set promotesFrom: to the primary stage, e.g. prod",
        ),
    ),
    (
        "preproduction without upstream, even with a pin",
        "qa",
        edited(QA, promotesFrom=DELETE, release=PIN),
        ConfigIssue(
            "promotesFrom",
            None,
            "a preproduction stage deploys only what an upstream stage verified",
            UPSTREAM_FIX,
        ),
    ),
    (
        "entry stage with neither upstream nor pin",
        "dev",
        DEV,
        ConfigIssue(
            "promotesFrom",
            None,
            "an entry stage without an upstream needs a pinned release",
            "set promotesFrom: to an upstream stage, or release: {appVersion, artifact}",
        ),
    ),
    (
        "routableWith not a list",
        "qa",
        edited(QA, routableWith="prod"),
        ConfigIssue("routableWith", "prod", "not a list of stage names", "write [prod, staging]"),
    ),
    (
        "routableWith with a number",
        "qa",
        edited(QA, routableWith=["prod", 3]),
        ConfigIssue(
            "routableWith", ["prod", 3], "not a list of stage names", "write [prod, staging]"
        ),
    ),
    (
        "unknown DR mode",
        "qa",
        edited(QA, disasterRecovery={"mode": "hot"}),
        ConfigIssue(
            "disasterRecovery.mode",
            "hot",
            "unknown DR mode",
            "use one of pilot-light, warm-standby",
        ),
    ),
    (
        "DR as a string",
        "qa",
        edited(QA, disasterRecovery="pilot-light"),
        ConfigIssue(
            "disasterRecovery.mode", None, "unknown DR mode", "use one of pilot-light, warm-standby"
        ),
    ),
    (
        "pinned release without artifact",
        "qa",
        edited(QA, release={"appVersion": "1.2.3"}),
        ConfigIssue(
            "release",
            {"appVersion": "1.2.3"},
            "a pinned release needs appVersion and artifact",
            RELEASE_FIX,
        ),
    ),
    (
        "pinned release without appVersion",
        "qa",
        edited(QA, release={"artifact": "a"}),
        ConfigIssue(
            "release",
            {"artifact": "a"},
            "a pinned release needs appVersion and artifact",
            RELEASE_FIX,
        ),
    ),
    (
        "pinned release as a string",
        "qa",
        edited(QA, release="1.2.3"),
        ConfigIssue(
            "release", "1.2.3", "a pinned release needs appVersion and artifact", RELEASE_FIX
        ),
    ),
    (
        "pinned release with unknown keys",
        "qa",
        edited(QA, release={**PIN, "version": 2, "build": 1}),
        ConfigIssue(
            "release",
            {**PIN, "version": 2, "build": 1},
            "unknown keys build, version",
            "use appVersion, artifact and optionally templateRevision",
        ),
    ),
    (
        "plain-text database password",
        "qa",
        edited(QA, dbPassword="hunter2"),
        ConfigIssue(
            "dbPassword",
            "(plain text, not shown)",
            "the database password is stored in plain text",
            "run `pulumi config rm stageline:dbPassword` and "
            "`pulumi config set --secret stageline:dbPassword`, or remove it to generate one",
        ),
    ),
    (
        "libvirt section on a cloud",
        "qa",
        edited(QA, libvirt={"uri": "qemu:///system"}),
        ConfigIssue(
            "libvirt",
            {"uri": "qemu:///system"},
            "only applies to target libvirt, not aws",
            "remove the libvirt section or set target: libvirt",
        ),
    ),
]


@pytest.mark.parametrize(
    ("stack", "values", "issue"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_stage_rule(stack: str, values: dict[str, Any], issue: ConfigIssue) -> None:
    assert issues_of(stack, values) == [issue]


def test_a_name_that_is_not_text_is_reported_as_such() -> None:
    assert issues_of("qa", edited(QA, promotesFrom=7)) == [
        ConfigIssue("promotesFrom", 7, "not a string", "set promotesFrom to a plain name"),
        ConfigIssue(
            "promotesFrom",
            None,
            "a preproduction stage deploys only what an upstream stage verified",
            UPSTREAM_FIX,
        ),
    ]


def test_an_unknown_key_is_reported() -> None:
    [issue] = issues_of("qa", edited(QA, protectDat=True))
    assert (issue.key, issue.value, issue.problem) == (
        "protectDat",
        True,
        "unknown key, ignored by stageline",
    )
    assert issue.fix.startswith("did you mean stageline:protectData? "), issue


def test_stage_and_target_checks_reach_the_spec_and_target_rules() -> None:
    found = issues_of("qa", edited(QA, region="us-east-9", network={"cidr": "8.8.0.0/16"}))
    assert [(i.key, i.value) for i in found] == [
        ("region", "us-east-9"),
        ("network.cidr", "8.8.0.0/16"),
    ]
    # With a valid region the spec's own rules run too.
    found = issues_of("qa", edited(QA, network={"cidr": "8.8.0.0/16"}))
    assert [(i.key, i.value) for i in found] == [("network.cidr", "8.8.0.0/16")]


def test_production_rules_apply_through_the_stage_config() -> None:
    found = issues_of("qa", edited(QA, tier="production"))
    assert [i.key for i in found] == [
        "database.highAvailability",
        "database.backupRetentionDays",
        "database.deletionProtection",
        "protectData",
    ]


def test_engine_values_decode_objects_and_keep_scalars() -> None:
    raw = {"stage": "qa", "network": '{"cidr": "10.1.0.0/16"}', "protectData": "true"}
    assert decode_engine_values(raw) == (
        {"stage": "qa", "network": {"cidr": "10.1.0.0/16"}, "protectData": True},
        [],
    )


def test_engine_value_that_is_not_json_is_reported() -> None:
    assert decode_engine_values({"network": "cidr: 10.1.0.0/16"}) == (
        {},
        [
            ConfigIssue(
                "network",
                "cidr: 10.1.0.0/16",
                "not a structured value",
                "write network as YAML, not a string",
            )
        ],
    )


def test_the_running_stack_replaces_its_file_in_the_graph(tmp_path) -> None:
    (tmp_path / "Pulumi.test.yaml").write_text(
        "config:\n  stageline:target: aws\n  stageline:region: us-west-2\n"
    )
    (tmp_path / "Pulumi.qa.yaml").write_text("config:\n  stageline:target: aws\n")
    live = parse_stage_config(
        "qa", edited(QA, routableWith=["test"], disasterRecovery={"mode": "pilot-light"}), set()
    )
    node = load_stage_graph(tmp_path, current=live).nodes["qa"]
    assert (node.name, node.target, node.region, node.cidr, node.tier, node.promotes_from) == (
        "qa",
        "aws",
        "us-east-1",
        "10.30.0.0/16",
        "preproduction",
        "test",
    )
    assert (node.routable_with, node.is_dr) == (("test",), True)


LOCAL = {
    "stage": "local",
    "target": "libvirt",
    "region": "local",
    "release": PIN,
    "network": {"cidr": "192.168.150.0/24", "zoneCount": 1},
    "libvirt": {"uri": "qemu:///system", "baseImage": "/images/base.qcow2"},
}


def test_a_libvirt_stage_keeps_its_target_section() -> None:
    config = parse_stage_config("local", LOCAL, frozenset())
    assert (config.target, config.target_settings) == ("libvirt", LOCAL["libvirt"])


def test_a_libvirt_stage_has_its_section_checked() -> None:
    found = issues_of("local", edited(LOCAL, libvirt={**LOCAL["libvirt"], "uri": "http://host/"}))
    assert [(i.key, i.value) for i in found] == [("libvirt.uri", "http://host/")]


@pytest.mark.parametrize("key", ["stage", "tier", "target", "region"])
def test_a_scalar_that_is_not_text_is_reported(key: str) -> None:
    found = issues_of("qa", edited(QA, **{key: 5}))
    assert found[0] == ConfigIssue(key, 5, "not a string", f"set {key} to a plain name"), found


def test_an_unknown_key_names_the_known_ones() -> None:
    [issue] = issues_of("qa", edited(QA, protectDat=True))
    assert "protectData" in issue.fix, issue


def test_a_spec_that_does_not_parse_is_reported_alone() -> None:
    assert issues_of("qa", edited(QA, network={})) == [
        ConfigIssue("network.cidr", None, "is required", "set network.cidr")
    ]


def test_the_zone_cap_uses_the_stage_target_and_region() -> None:
    found = issues_of("qa", edited(QA, network={"cidr": "10.30.0.0/16", "zoneCount": 7}))
    assert [(i.key, i.value) for i in found] == [("network.zoneCount", 7)]


def test_target_rules_run_for_the_stage_target() -> None:
    found = issues_of("qa", edited(QA, compute={"sku": "t3.bogus"}))
    assert [(i.key, i.value) for i in found] == [("compute.sku", "t3.bogus")]


def test_target_rules_see_the_stack_name() -> None:
    values = edited(QA, target="gcp", region="us-central1")
    assert parse_stage_config("qa", values, frozenset()).target == "gcp"
    found = issues_of("qa-" + "x" * 60, values)
    assert found and all("x" * 60 in str(i.value) for i in found), found
