"""Azure names derived from the stack, and the limits they must fit. Imports no Azure SDK.

Most children are auto-named by pulumi-azure-native: the logical name (which starts with the
stack name) plus 8 random hex characters, with no case folding. The strictest of them, the
PostgreSQL server (3-63 lowercase letters, digits and hyphens) and the Log Analytics workspace
(4-63), bound the stack name. Names Azure makes global or stricter still (the storage account,
the private DNS zone) are derived explicitly and sanitized instead.
"""

from __future__ import annotations

import re

AUTONAME_SUFFIX = 8
"""Random hex characters pulumi-azure-native appends to a logical name."""
MAX_STACK_LENGTH = 36
"""Longest stack name whose auto-named children all fit (tests/unit/test_azure_naming.py)."""
STACK_NAME = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")

STORAGE_ACCOUNT_NAME = re.compile(r"[a-z0-9]{3,24}")
STORAGE_ACCOUNT_SUFFIX = 6
"""Random characters that make a derived storage account name unique across Azure."""
DATABASE_SUBNET = "database"
"""Fixed name of the delegated subnet, so the database can address it inside the network."""


def storage_account_prefix(name: str) -> str:
    """The part of a storage account name derived from a component name: lowercase letters and
    digits only, short enough to leave room for the random suffix, never empty."""
    cleaned = re.sub(r"[^a-z0-9]", "", name.lower())
    return (cleaned or "stageline")[: 24 - STORAGE_ACCOUNT_SUFFIX]


def dns_label(name: str) -> str:
    """A DNS label (private DNS zone) from a component name: [a-z0-9-], at most 63 characters."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return (cleaned or "stageline")[:63].rstrip("-")


def stack_name_problem(stack: str) -> str | None:
    """Why `stack` cannot prefix Azure names, or None when it can."""
    if not STACK_NAME.fullmatch(stack):
        return "Azure Database for PostgreSQL names take only lowercase letters, digits and hyphens"
    if len(stack) > MAX_STACK_LENGTH:
        return (
            f"{len(stack)} characters make names such as {stack}-observability-logs plus "
            f"{AUTONAME_SUFFIX} random characters longer than Azure's 63"
        )
    return None
