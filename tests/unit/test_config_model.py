"""The one config model of the `stageline:` namespace and its error adapter.

Each case reads a stack's values through the model and compares every issue whole: the adapter
is what turns pydantic's errors into the key, value, problem and fix a user reads.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import pytest
from click.testing import CliRunner
from pydantic import Field, StrictFloat, TypeAdapter
from pydantic.dataclasses import dataclass as pydantic_dataclass

from components.azure.settings import parse_settings as parse_azure_settings
from components.errors import ConfigError, ConfigIssue
from components.libvirt.settings import parse_settings as parse_libvirt_settings
from components.model import (
    MODEL_CONFIG,
    Says,
    Text,
    Whole,
    aliases,
    read_field,
    read_leniently,
    section,
    text_keys,
    validate,
)
from components.regions import TARGETS
from components.spec import ComputeSpec, EnvironmentSpec, NetworkSpec, parse_section
from stageline.cli.main import cli
from stageline.config import KNOWN_KEYS, OBJECT_KEYS, decode_engine_values, parse_stage_config
from stageline.model import (
    DEFAULT_TIER,
    NAMESPACE_KEYS,
    DisasterRecovery,
    Namespace,
    ReleasePin,
    StageKeys,
    protects_data,
    stage_keys,
    target_section,
    target_sections_model,
)

QA: dict[str, Any] = {
    "stage": "qa",
    "tier": "preproduction",
    "target": "aws",
    "region": "us-east-1",
    "promotesFrom": "test",
    "network": {"cidr": "10.30.0.0/16"},
}


def issues_of(values: dict[str, Any], stack: str = "qa") -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as raised:
        parse_stage_config(stack, values, frozenset())
    return list(raised.value.issues)


def test_the_namespace_keys_are_the_models_fields_in_camel_case() -> None:
    assert KNOWN_KEYS == NAMESPACE_KEYS
    for key in ("promotesFrom", "routableWith", "disasterRecovery", "protectData", "dbPassword"):
        assert key in NAMESPACE_KEYS, key
    # One section per registered target, each named after it.
    assert set(TARGETS) <= set(NAMESPACE_KEYS)
    assert "promotes_from" not in NAMESPACE_KEYS


def test_engine_values_of_every_non_text_key_are_decoded_as_json() -> None:
    # The model's text keys stay text; lists, objects, flags and target sections are JSON.
    assert {"routableWith", "disasterRecovery", "release", "protectData", "libvirt"} <= set(
        OBJECT_KEYS
    )
    assert not {"stage", "tier", "target", "region", "promotesFrom", "dbPassword"} & set(
        OBJECT_KEYS
    )
    assert decode_engine_values({"routableWith": '["prod"]', "promotesFrom": "7"}) == (
        {"routableWith": ["prod"], "promotesFrom": "7"},
        [],
    )


def test_a_stack_file_key_in_snake_case_is_unknown() -> None:
    # Config is read by alias only; field names are for code.
    assert parse_section("network", NetworkSpec, {"cidr": "10.1.0.0/16", "zone_count": 2}) == (
        None,
        [ConfigIssue("network.zone_count", 2, "unknown key", "did you mean zoneCount?")],
    )
    assert NetworkSpec(cidr="10.1.0.0/16", zone_count=3).zone_count == 3


def test_unknown_keys_inside_nested_objects_are_refused() -> None:
    found = issues_of({**QA, "disasterRecovery": {"mode": "pilot-light", "lag": 5}})
    known = "known keys: mode, role, rpoSeconds, rtoSeconds, dnsZone, drillCidr"
    assert found == [ConfigIssue("disasterRecovery.lag", 5, "unknown key", known)]


def test_every_problem_is_reported_at_once_unknown_keys_first() -> None:
    values = {
        **QA,
        "netwrk": 1,
        "compute": {"minCount": "1", "size": 3},
        "database": {"highAvailability": "yes"},
        "routableWith": "prod",
    }
    found = issues_of(values)
    assert [(i.key, i.value, i.problem) for i in found] == [
        ("netwrk", 1, "unknown key, ignored by stageline"),
        ("routableWith", "prod", "not a list of stage names"),
        ("compute.size", 3, "not a string"),
        ("compute.minCount", "1", "not a whole number"),
        ("database.highAvailability", "yes", "not a boolean"),
    ]
    assert found[0].fix.startswith("did you mean stageline:network? "), found[0]


def test_a_list_item_of_the_wrong_type_is_reported_once_for_its_field() -> None:
    found = issues_of({**QA, "routableWith": [1, 2, "prod"]})
    assert found == [
        ConfigIssue(
            "routableWith", [1, 2, "prod"], "not a list of stage names", "write [prod, staging]"
        )
    ]


def test_a_target_section_that_is_not_an_object() -> None:
    found = issues_of({**QA, "aws": "us"})
    assert found[0] == ConfigIssue("aws", "us", "must be an object", "write aws: as a map")


def test_a_section_of_another_target_is_named_for_each_target() -> None:
    for other in (t for t in TARGETS if t != "aws"):
        assert issues_of({**QA, other: {"x": 1}}) == [
            ConfigIssue(
                other,
                {"x": 1},
                f"only applies to target {other}, not aws",
                f"remove the {other} section or set target: {other}",
            )
        ], other


def test_the_target_gets_its_own_section_as_written() -> None:
    # The model hands the section over unparsed; the target (here azure) parses it.
    azure = {
        **QA,
        "target": "azure",
        "region": "westeurope",
        "database": {"backupRetentionDays": 7},
        "observability": {"logRetentionDays": 30},
    }
    section = {"storageAccountName": "qastore1"}
    config = parse_stage_config("qa", {**azure, "azure": section}, frozenset())
    assert config.target_settings == section


def test_a_target_without_settings_refuses_a_section() -> None:
    assert [i.problem for i in issues_of({**QA, "aws": {"anything": [1]}})] == [
        "the aws target has no settings of its own"
    ]


def test_a_release_pin_written_as_numbers_is_text() -> None:
    pin = {"appVersion": 1.5, "artifact": "registry/app:1.5", "templateRevision": 7}
    config = parse_stage_config("qa", {**QA, "release": pin}, frozenset())
    assert config.release_pin == ReleasePin("1.5", "registry/app:1.5", "7")


def test_an_empty_name_is_unset() -> None:
    keys = stage_keys({"promotesFrom": "", "tier": "", "target": "aws"})
    assert (keys.promotes_from, keys.tier, keys.tier_name, keys.target) == (
        None,
        None,
        DEFAULT_TIER,
        "aws",
    )


def test_the_namespace_model_holds_the_spec() -> None:
    model, issues = validate(Namespace, {**QA, "compute": {"maxCount": 4}, "protectData": True})
    assert issues == [] and model is not None
    assert model.spec == EnvironmentSpec(
        network=NetworkSpec("10.30.0.0/16"), compute=ComputeSpec(max_count=4), protect_data=True
    )
    assert (model.stage, model.promotes_from, model.tier_name) == ("qa", "test", "preproduction")


def test_the_password_is_not_in_the_models_repr() -> None:
    model, _ = validate(Namespace, {**QA, "dbPassword": "hunter2"})
    assert model is not None and "hunter2" not in repr(model)


# --- lenient reading: the graph and the CLI ask one stage's keys ---------------------------


def test_stage_keys_leave_out_only_the_bad_keys() -> None:
    keys = stage_keys(
        {
            "stage": 5,
            "target": "gcp",
            "tier": ["production"],
            "promotesFrom": "qa",
            "disasterRecovery": {"mode": "hot"},
            "release": {"appVersion": "1"},
            "network": "not even an object",
        }
    )
    assert keys == StageKeys(target="gcp", promotes_from="qa")
    assert keys.tier_name == DEFAULT_TIER


def test_stage_keys_of_a_file_that_is_not_a_map() -> None:
    assert stage_keys([]) == StageKeys()  # type: ignore[arg-type]
    assert read_leniently(NetworkSpec, "10.0.0.0/16") is None


def test_a_nested_section_read_leniently_keeps_its_good_keys() -> None:
    network = read_leniently(NetworkSpec, {"cidr": "10.1.0.0/16", "zoneCount": "two", "x": 1})
    assert network == NetworkSpec("10.1.0.0/16")
    # Without its required key nothing can stand in for it.
    assert read_leniently(NetworkSpec, {"zoneCount": 2}) is None


def test_one_field_is_read_alone_or_takes_its_default() -> None:
    assert read_field(EnvironmentSpec, {"protectData": True, "network": 3}, "protect_data") is True
    assert read_field(EnvironmentSpec, {"protectData": "yes"}, "protect_data") is False
    assert read_field(EnvironmentSpec, {}, "protect_data") is False
    assert read_field(
        StageKeys, {"disasterRecovery": {"mode": "warm-standby"}}, "disaster_recovery"
    ) == (DisasterRecovery("warm-standby"))


@pytest.mark.parametrize(
    ("values", "protected"),
    [
        ({"tier": "production"}, True),
        ({"protectData": True}, True),
        # A stage with other mistakes is still guarded.
        ({"protectData": True, "network": "bad", "stage": 5}, True),
        ({"tier": "production", "protectData": "no"}, True),
        ({"tier": "preproduction", "protectData": False}, False),
        ({"protectData": "true"}, False),
        ({}, False),
    ],
)
def test_protected_data(values: dict[str, Any], protected: bool) -> None:
    assert protects_data(values) is protected


# --- the CLI reads the same model ----------------------------------------------------------


def project(tmp_path: Path, stacks: dict[str, str]) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: stageline\nruntime: python\n")
    folder = tmp_path / "stacks"
    folder.mkdir()
    for name, text in stacks.items():
        (folder / f"Pulumi.{name}.yaml").write_text(text)
    return tmp_path


def test_promote_refuses_a_pinned_stage_naming_the_pin_as_text(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "qa": "config:\n  stageline:promotesFrom: test\n"
            "  stageline:release:\n    appVersion: 1.5\n    artifact: registry/app:1.5\n"
        },
    )
    result = CliRunner().invoke(cli, ["--project-dir", str(root), "promote", "qa", "--yes"])
    assert result.exit_code == 1, result.output
    assert "stage 'qa' pins release '1.5' in config" in result.output, result.output


def test_promote_without_an_upstream_name(tmp_path: Path) -> None:
    root = project(tmp_path, {"qa": "config:\n  stageline:promotesFrom: 7\n"})
    result = CliRunner().invoke(cli, ["--project-dir", str(root), "promote", "qa", "--yes"])
    assert result.exit_code == 1, result.output
    assert "stage 'qa' has no promotesFrom: nothing to promote from" in result.output


def test_destroy_refuses_a_protected_stage_with_other_mistakes(tmp_path: Path) -> None:
    root = project(
        tmp_path, {"dr": "config:\n  stageline:protectData: true\n  stageline:network: 1\n"}
    )
    result = CliRunner().invoke(cli, ["--project-dir", str(root), "destroy", "dr", "--yes"])
    assert result.exit_code == 1, result.output
    assert "holds protected data" in result.output, result.output


# --- the adapter on models made for the test: every path of its wording -------------------


@pydantic_dataclass(frozen=True, config=MODEL_CONFIG)
class Inner:
    item_count: Whole = 1
    tags: Annotated[tuple[Text, ...], Says(whole=("not a list of tags", "write [a, b]"))] = ()


@pydantic_dataclass(frozen=True, config=MODEL_CONFIG)
class Outer:
    inner: section(Inner) = Field(default_factory=Inner)
    counts: dict[str, Whole] = Field(default_factory=dict)
    ratio: StrictFloat = 0.5
    either: Text | Whole = 0


def test_a_field_inside_a_section_reports_its_errors_whole_under_the_prefix() -> None:
    raw = {"inner": {"tags": ["a", 1]}}
    assert validate(Outer, raw, prefix="top") == (
        None,
        [ConfigIssue("top.inner.tags", ["a", 1], "not a list of tags", "write [a, b]")],
    )


def test_an_absent_or_empty_section_takes_its_defaults() -> None:
    assert validate(Outer, {"inner": None}) == (Outer(), [])
    assert TypeAdapter(section(Inner)).validate_python(None) == Inner()


def test_a_value_inside_a_mapping_field_is_named_by_its_key() -> None:
    assert validate(Outer, {"counts": {"a": 1, "b": "2"}}) == (
        None,
        [ConfigIssue("counts.b", "2", "not a whole number", "use an integer such as 2")],
    )


def test_an_error_with_no_wording_of_its_own_keeps_pydantics() -> None:
    assert validate(Outer, {"ratio": "half"}) == (
        None,
        [ConfigIssue("ratio", "half", "Input should be a valid number", "fix the value")],
    )


def test_unknown_keys_at_the_root_and_nested_deep() -> None:
    assert validate(Outer, {"ratoi": 1.0}) == (
        None,
        [ConfigIssue("ratoi", 1.0, "unknown key", "did you mean ratio?")],
    )
    assert validate(Outer, {"inner": {"itemCont": 2}}, prefix="top.level") == (
        None,
        [ConfigIssue("top.level.inner.itemCont", 2, "unknown key", "did you mean itemCount?")],
    )


def test_text_keys_are_the_plain_text_fields() -> None:
    assert text_keys(StageKeys) == ("stage", "tier", "target", "region", "promotesFrom")
    # A field that may be text or a number is not plain text.
    assert text_keys(Outer) == ()
    assert text_keys(Inner) == ()


def test_one_field_of_a_model_made_for_the_test() -> None:
    assert read_field(Outer, {"ratio": 0.25}, "ratio") == 0.25
    assert read_field(Outer, {"inner": {"itemCount": 3}}, "inner") == Inner(item_count=3)
    # Defaults made by a factory are made; field names are not stack-file keys.
    assert read_field(Outer, {"inner": {"item_count": 3}}, "inner") == Inner()
    assert read_field(EnvironmentSpec, {"compute": {"max_count": 3}}, "compute") == ComputeSpec()
    assert read_leniently(Outer, {"ratio": "x", "counts": {"a": 1}}) == Outer(counts={"a": 1})


def test_an_error_raised_by_a_rule_inside_the_model_keeps_its_words() -> None:
    model, issues = validate(Namespace, {"release": {"appVersion": "1", "artifact": "a", "x": 1}})
    assert model is None
    assert (
        ConfigIssue(
            "release",
            {"appVersion": "1", "artifact": "a", "x": 1},
            "unknown keys x",
            "use appVersion, artifact and optionally templateRevision",
        )
        in issues
    )


def test_stage_keys_built_in_code_keep_their_objects() -> None:
    pin, dr = ReleasePin("1.2.3", "registry/app:1.2.3"), DisasterRecovery("pilot-light")
    keys = StageKeys(release=pin, disaster_recovery=dr)
    assert (keys.release, keys.disaster_recovery) == (pin, dr)


def test_a_target_section_is_found_only_under_a_target_name() -> None:
    model, _ = validate(Namespace, {**QA, "libvirt": {"uri": "qemu:///system"}})
    assert target_section(model, "libvirt") == {"uri": "qemu:///system"}
    assert target_section(model, "aws") is None
    assert target_section(model, "stage") is None
    assert target_section(None, "libvirt") is None


def test_the_target_sections_are_one_optional_object_per_target() -> None:
    sections = target_sections_model(("one", "two"))
    assert aliases(sections) == ("one", "two")
    assert repr(sections()) == "TargetSections(one=None, two=None)"
    assert validate(sections, {}) == (sections(), [])
    found, issues = validate(sections, {"one": {"a": [1]}})
    assert issues == [] and target_section(found, "one") == {"a": [1]}
    assert target_section(found, "two") is None
    assert validate(sections, {"one": 1, "three": {}}) == (
        None,
        [
            ConfigIssue("three", {}, "unknown key", "known keys: one, two"),
            ConfigIssue("one", 1, "must be an object", "write one: as a map"),
        ],
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.one = {}  # type: ignore[attr-defined]


def test_issues_come_unknown_keys_first_then_provider_keys_then_the_stage_then_the_spec() -> None:
    values = {
        **QA,
        "compute": {"minCount": "1"},
        "promotesFrom": None,
        "disasterRecovery": {"mode": "hot"},
        "protectDat": True,
    }
    with pytest.raises(ConfigError) as raised:
        parse_stage_config("qa", values, frozenset(), {"aws:regoin": "us-east-1"})
    assert [(i.namespace, i.key) for i in raised.value.issues] == [
        ("stageline", "protectDat"),
        ("aws", "regoin"),
        ("stageline", "disasterRecovery.mode"),
        ("stageline", "promotesFrom"),
        ("stageline", "compute.minCount"),
    ]


def test_a_target_section_reports_its_rules_beside_its_model_errors() -> None:
    # The unknown key fails the model; the name rule still runs on what did parse.
    settings, issues = parse_azure_settings({"storageAccountName": "Bad_Name", "storageAcount": 1})
    assert settings is None
    assert [(i.key, i.problem) for i in issues] == [
        ("azure.storageAcount", "unknown key"),
        ("azure.storageAccountName", issues[1].problem),
    ]
    assert issues[1].problem.startswith("an Azure storage account name"), issues[1]


def test_a_key_the_model_refused_is_not_checked_again_by_the_rules() -> None:
    # The lenient read leaves baseImage at its default "", which its rule would refuse again.
    settings, issues = parse_libvirt_settings({"baseImage": 5})
    assert settings is None
    assert [(i.key, i.value, i.problem) for i in issues] == [
        ("libvirt.baseImage", 5, "is required")
    ]


def test_a_section_that_passes_model_and_rules_is_returned() -> None:
    settings, issues = parse_azure_settings({"storageAccountName": "shopprod01"})
    assert issues == [] and settings is not None
    assert settings.storage_account_name == "shopprod01"
