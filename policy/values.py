"""Small readers of resource inputs shared by the targets' policy facts: dotted paths, secrets,
unknowns, truthiness as the providers read it, and base64 boot data."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import UNKNOWN, Secret


def plain(value: Any) -> Any:
    """The value with a Secret marker removed (at the top only)."""
    return value.value if isinstance(value, Secret) else value


def get(inputs: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted path (`settings.ipConfiguration.ipv4Enabled`); `default` when a step
    is missing or not a mapping. Inside a secret, the value found is a Secret too."""
    value: Any = inputs
    secret = isinstance(value, Secret)
    for step in path.split("."):
        value = plain(value)
        if not isinstance(value, Mapping) or step not in value:
            return default
        value = value[step]
        secret = secret or isinstance(value, Secret)
    return Secret(plain(value)) if secret else value


def items(inputs: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """(`path[i]`, element) of the list at `path`; nothing when it is missing or not a list."""
    value = plain(get(inputs, path))
    if isinstance(value, list | tuple):
        for index, element in enumerate(value):
            yield f"{path}[{index}]", plain(element)


def is_true(value: Any) -> bool:
    """True, or the string "true" some providers take for a boolean (launch template EBS)."""
    value = plain(value)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    value = plain(value)
    return value is False or (isinstance(value, str) and value.lower() == "false")


def known(value: Any) -> bool:
    return value is not UNKNOWN


def decode_base64(value: Any) -> Any:
    """Base64 boot data decoded to text; the value itself when it is not base64 (a plan may
    hold it in plain), a Secret kept a Secret."""
    if isinstance(value, Secret):
        return Secret(decode_base64(value.value))
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value


def number(value: Any) -> float | None:
    """A number as a plan or the engine holds it (the wire makes every number a float)."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
