"""The readers of resource inputs that every target's policy facts share: how they walk a path,
keep a secret a secret, skip an unknown and read booleans, numbers and boot data as the providers
and the engine hold them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from policy.model import UNKNOWN, Secret
from policy.values import decode_base64, get, is_false, is_true, items, known, number, plain


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


INPUTS: dict[str, Any] = {
    "settings": {"ipConfiguration": {"ipv4Enabled": True}, "tier": "db-f1-micro"},
    "osProfile": Secret({"customData": {"text": "x"}}),
    "password": Secret("hunter22"),
    "list": [1, 2],
}


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("settings.ipConfiguration.ipv4Enabled", True),
        ("settings.tier", "db-f1-micro"),
        ("settings.missing", "default"),
        ("settings.tier.deeper", "default"),
        ("list.0", "default"),
        ("missing", "default"),
        ("password", Secret("hunter22")),
        ("osProfile.customData.text", Secret("x")),
        ("osProfile.customData", Secret({"text": "x"})),
        ("osProfile.missing", "default"),
    ],
)
def test_get_walks_a_dotted_path_and_keeps_secrets(path: str, found: Any) -> None:
    assert get(INPUTS, path, "default") == found


def test_get_inside_a_secret_mapping() -> None:
    assert get(Secret({"a": {"b": 1}}), "a.b") == Secret(1)  # type: ignore[arg-type]
    assert get({"a": Secret({"b": Secret(2)})}, "a.b") == Secret(2)
    assert get({}, "a") is None


def test_items_names_each_element_and_unwraps_secrets() -> None:
    inputs = {"rules": [{"a": 1}, Secret({"b": 2})], "one": {"a": 1}, "s": Secret([3])}
    assert list(items(inputs, "rules")) == [("rules[0]", {"a": 1}), ("rules[1]", {"b": 2})]
    assert list(items(inputs, "s")) == [("s[0]", 3)]
    assert list(items(inputs, "one")) == []
    assert list(items(inputs, "missing")) == []


@pytest.mark.parametrize(
    ("value", "true", "false"),
    [
        (True, True, False),
        (False, False, True),
        ("true", True, False),
        ("True", True, False),
        ("FALSE", False, True),
        ("false", False, True),
        (Secret(True), True, False),
        (Secret("false"), False, True),
        (None, False, False),
        (0, False, False),
        (1, False, False),
        ("", False, False),
        ("yes", False, False),
        (UNKNOWN, False, False),
    ],
)
def test_booleans_as_the_providers_take_them(value: Any, true: bool, false: bool) -> None:
    assert (is_true(value), is_false(value)) == (true, false)


def test_known() -> None:
    assert not known(UNKNOWN)
    assert known(None) and known(False) and known("")


@pytest.mark.parametrize(
    ("value", "decoded"),
    [
        (b64("#cloud-config\npassword: x\n"), "#cloud-config\npassword: x\n"),
        (Secret(b64("echo hi")), Secret("echo hi")),
        (Secret("cd up"), Secret("cd up")),
        # Plain text is kept as written, even text that a lenient decoder would take for
        # base64 once the space is dropped.
        ("cd up", "cd up"),
        ("echo hi", "echo hi"),
        (b64("x").rstrip("="), b64("x").rstrip("=")),
        (base64.b64encode(b"\xff\xfe\xfd").decode(), "//79"),
        (None, None),
        (42, 42),
        (UNKNOWN, UNKNOWN),
    ],
)
def test_decode_base64(value: Any, decoded: Any) -> None:
    assert decode_base64(value) == decoded


@pytest.mark.parametrize(
    ("value", "read"),
    [
        (2, 2.0),
        (2.5, 2.5),
        (Secret(7), 7.0),
        (0, 0.0),
        (True, None),
        (False, None),
        ("2", None),
        (None, None),
        (UNKNOWN, None),
    ],
)
def test_number(value: Any, read: float | None) -> None:
    found = number(value)
    assert found == read and type(found) is type(read)


def test_plain() -> None:
    assert plain(Secret("x")) == "x"
    assert plain(Secret(Secret("x"))) == Secret("x")
    assert plain("x") == "x"
