"""GCP names and labels derived from the stack, and the rules they must meet. Imports no GCP SDK.

pulumi-gcp auto-names most resources: the logical name (which starts with the stack name),
lowercased, plus "-" and 7 random characters, and refuses a result over 63 characters. GCP wants
RFC 1035 names: a lowercase letter, then lowercase letters, digits or hyphens, not ending in a
hyphen. So the stack name must be such a name, and short enough for the longest child.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

RFC1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
AUTONAME_SUFFIX = 8
"""The "-" and 7 random characters pulumi-gcp appends to a logical name."""
MAX_STACK_LENGTH = 36
"""Longest stack name whose auto-named children all fit in 63 (tests/unit/test_gcp_naming.py)."""
APP_TAG = "stageline-app"
"""Network tag of the application instances: the firewall rules' target. Tags are per VPC, and
every stage has its own VPC, so a fixed tag cannot reach another stage."""

_LABEL_MAX = 63


def is_rfc1035(name: str) -> bool:
    return bool(RFC1035.fullmatch(name))


def stack_name_problem(stack: str) -> str | None:
    """Why `stack` cannot prefix GCP resource names, or None when it can."""
    if not re.fullmatch(r"[a-z][-a-z0-9]*", stack) or stack.endswith("-"):
        return (
            "GCP resource names (RFC 1035) take a lowercase letter, then lowercase letters, "
            "digits and hyphens"
        )
    if len(stack) > MAX_STACK_LENGTH:
        return (
            f"{len(stack)} characters make names such as {stack}-compute-autoscaler plus "
            f"{AUTONAME_SUFFIX} random characters longer than GCP's 63"
        )
    return None


def label_value(value: str) -> str:
    """A GCP label value: lowercase letters, digits, `_` and `-`, at most 63 (1.0.0 -> 1-0-0)."""
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:_LABEL_MAX]


def label_key(key: str) -> str:
    """A GCP label key: like a value, but it must start with a lowercase letter."""
    cleaned = label_value(key)
    return cleaned if cleaned[:1].isalpha() else f"k-{cleaned}"[:_LABEL_MAX]


def labels(tags: Mapping[str, str] | None) -> dict[str, str]:
    """Stage tags as GCP labels, which allow neither capitals nor dots."""
    return {label_key(k): label_value(v) for k, v in (tags or {}).items()}
