"""Azure resource IDs a DR stage reads from its primary's contract. Imports no Azure SDK."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/(?P<provider>[^/]+/[^/]+)/(?P<name>[^/]+)$",
    re.IGNORECASE,
)
STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
FLEXIBLE_SERVER = "Microsoft.DBforPostgreSQL/flexibleServers"


@dataclass(frozen=True)
class ResourceId:
    subscription: str
    group: str
    name: str


def parse(value: str, kind: str, key: str) -> ResourceId:
    """`value` as the ID of a `kind` resource; ValueError names the contract key and the fix."""
    found = _ID.match(value)
    if found is None or found["provider"].lower() != kind.lower():
        raise ValueError(
            f"the primary's {key} is {value!r}, not the ID of an Azure {kind}: deploy the "
            "primary with this template (its contract exports the resource ID), then retry"
        )
    return ResourceId(found["subscription"], found["group"], found["name"])


def container_of(url: str) -> str:
    """The container's name from its URL (the contract's storage.bucket on Azure)."""
    return url.rstrip("/").rsplit("/", 1)[-1]
