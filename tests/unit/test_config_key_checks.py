"""The key checks of a stack's config: unknown `stageline:` keys, keys without a namespace, a
misspelt `stageline` namespace, and typos of a provider's own keys (`aws:`, `gcp:`,
`azure-native:`). Each issue is compared whole: key, value, problem, fix and namespace.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.errors import ConfigError, ConfigIssue
from stageline.config import (
    KNOWN_KEYS,
    decode_engine_values,
    parse_stage_config,
    provider_key_issues,
    unknown_key_issues,
)

KNOWN = ", ".join(KNOWN_KEYS)
LOCAL: dict[str, Any] = {
    "stage": "local",
    "tier": "development",
    "target": "libvirt",
    "region": "local",
    "release": {"appVersion": "1.0.0", "artifact": "ghcr.io/acme/shop:1.0.0"},
    "libvirt": {"baseImage": "/images/base.qcow2"},
    "network": {"cidr": "192.168.150.0/24", "zoneCount": 1},
}


def test_unknown_keys_are_named_with_a_suggestion_when_one_is_close() -> None:
    issues = unknown_key_issues({"stage": "qa", "protectDat": True, "zzzz": 1})
    assert issues == [
        ConfigIssue(
            "protectDat",
            True,
            "unknown key, ignored by stageline",
            f"did you mean stageline:protectData? rename or remove it; known keys: {KNOWN}",
        ),
        ConfigIssue(
            "zzzz",
            1,
            "unknown key, ignored by stageline",
            f"rename or remove it; known keys: {KNOWN}",
        ),
    ]


def test_an_unknown_secret_key_does_not_show_its_value() -> None:
    (issue,) = unknown_key_issues({"dbPasswd": "hunter2"}, frozenset({"dbPasswd"}))
    assert issue.value == "(secret, not shown)", issue
    (plain,) = unknown_key_issues({"dbPasswd": "visible"}, frozenset({"other"}))
    assert plain.value == "visible", plain


def test_the_stage_check_hides_an_unknown_secret_too() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stage_config("local", {**LOCAL, "dbPasswd": "hunter2"}, frozenset({"dbPasswd"}))
    assert [(i.key, i.value) for i in raised.value.issues] == [("dbPasswd", "(secret, not shown)")]


def test_every_kind_of_provider_key_mistake_in_one_file() -> None:
    other = {
        "stag": "qa",  # no namespace, close to a stageline key
        "pulumi:template": "x",  # the engine's own namespace: never checked
        "zzzz": 1,  # no namespace, close to nothing
        "stagelin:size": "small",  # the stageline namespace misspelt
        "stage:x": 1,  # an unrelated namespace, not close enough to stageline
        "aws:region": "eu-west-1",  # known
        "aws:region.x": "y",  # a nested path: left to the provider
        "aws:rgn": "eu",  # unfamiliar, but no key is close: left to the provider
        "gcp:projet": "p",
        "azure-native:locaton": "westeurope",
        "nosuchprovider:regoin": "x",  # no SDK installed: nothing to compare with
    }
    assert provider_key_issues(other) == [
        ConfigIssue(
            "stag",
            "qa",
            "a config key without a namespace",
            "write it as stageline:stage",
            namespace="",
        ),
        ConfigIssue(
            "zzzz",
            1,
            "a config key without a namespace",
            "write it as stageline:<key>",
            namespace="",
        ),
        ConfigIssue(
            "size",
            "small",
            "namespace 'stagelin' is not 'stageline', so stageline ignores it",
            "write stageline:size",
            namespace="stagelin",
        ),
        ConfigIssue(
            "projet",
            "p",
            "not a setting of the gcp provider, which would ignore it",
            "did you mean gcp:project?",
            namespace="gcp",
        ),
        ConfigIssue(
            "locaton",
            "westeurope",
            "not a setting of the azure-native provider, which would ignore it",
            "did you mean azure-native:location?",
            namespace="azure-native",
        ),
    ]


@pytest.mark.parametrize(
    ("key", "fix"),
    [("aws:regoin", "did you mean aws:region?"), ("aws:regio", "did you mean aws:region?")],
)
def test_a_provider_key_typo_after_fine_keys_is_still_found(key: str, fix: str) -> None:
    # Each skipped key before it (engine namespace, known, nested, unrelated) must not end the scan.
    other = {"pulumi:x": 1, "aws:region": "a", "aws:region.x": "b", "aws:rgn": "c", key: "v"}
    (issue,) = provider_key_issues(other)
    assert (issue.key, issue.fix) == (key.partition(":")[2], fix), issue


def test_a_misspelt_namespace_does_not_end_the_scan() -> None:
    issues = provider_key_issues({"stagelin:size": "s", "aws:regoin": "x"})
    assert [(i.namespace, i.key) for i in issues] == [("stagelin", "size"), ("aws", "regoin")]


def test_libvirt_settings_issues_add_to_the_others() -> None:
    values = {**LOCAL, "protectDat": True, "libvirt": {"baseImage": ""}}
    with pytest.raises(ConfigError) as raised:
        parse_stage_config("local", values, frozenset())
    keys = [i.key for i in raised.value.issues]
    assert keys[0] == "protectDat", keys
    assert keys[1:] == ["libvirt.baseImage"], keys


def test_known_scalar_keys_are_kept_as_the_engine_gave_them() -> None:
    assert decode_engine_values({"stage": "qa", "region": "1"}) == (
        {"stage": "qa", "region": "1"},
        [],
    )


def test_an_unknown_key_reads_as_the_stack_file_wrote_it() -> None:
    # JSON when it parses (the engine encodes objects so), the text itself when it does not.
    assert decode_engine_values({"protectDat": "true", "netwrok": "10.0.0.0/16"}) == (
        {"protectDat": True, "netwrok": "10.0.0.0/16"},
        [],
    )
