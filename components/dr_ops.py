"""Runtime operations of disaster recovery: what the engine cannot do.

A replica's lag, its promotion, scaling and failover routing are actions on running systems,
not resources. Each target implements them in its `ops.py` (named by `Target.ops`), and the
operator (`stageline dr ...`) calls them through this interface, never naming a target.

Every operation takes the two sides as `StackView`s: a stack's contract outputs (secrets
revealed, in memory only) and its parsed target settings. Operations are idempotent: a
failover that stopped half-way is run again.

A target that cannot do an operation here raises `OperationUnavailable` with the reason, and
the operator prints it as is.
"""

from __future__ import annotations

import importlib
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

RoleName = Literal["standby", "active", "unknown"]


class OperationUnavailable(RuntimeError):
    """The target cannot perform this operation (no SDK, no honest way to test it): the
    message says why and what to do instead."""


class OperationFailed(RuntimeError):
    """The operation ran and failed; the message names the system and what it answered."""


@dataclass(frozen=True)
class StackView:
    stack: str
    """Stack name (`onprem`, `onprem-dr`, `onprem-drill-1a2b`)."""
    region: str
    """Its region or site."""
    outputs: Mapping[str, Any]
    """Its contract outputs (components/contract.py), secrets revealed."""
    settings: Any = None
    """Its parsed `stageline:<target>` settings (None for a target without any)."""


@dataclass(frozen=True)
class DrSides:
    primary: StackView
    replica: StackView
    zone: str | None = None
    """The failover record's zone (disasterRecovery.dnsZone); None: no routing."""


@dataclass(frozen=True)
class ReplicationState:
    role: RoleName
    """What the replica's database says it is now: `standby` while it follows the primary."""
    streaming: bool
    """Whether it receives changes from the primary right now."""
    lag_seconds: float | None
    """Replication lag: the RPO if the primary were lost now. None when unknown."""
    newest_object_age_seconds: float | None = None
    """Age of the newest object replicated into the replica's store. None: none yet, or
    unknown."""
    detail: str = ""
    """What the target reported, for the operator's table."""


@dataclass(frozen=True)
class IngressHealth:
    healthy: bool
    detail: str
    """The status line or the error: `200 appVersion 1.4.2, database primary`."""
    app_version: str | None = None
    database_role: str | None = None


@dataclass(frozen=True)
class Marker:
    """A drill's proof of data: a row in the primary's database and an object in its store."""

    name: str
    written_at: datetime
    """When the primary committed it (the database's clock)."""
    found: Mapping[str, bool] = field(default_factory=dict)
    """Per kind ("row", "object"), whether it arrived."""


class DrOperations(Protocol):
    def replication(self, sides: DrSides) -> ReplicationState:
        """Read the replica's role, lag and newest object."""
        ...

    def promote(self, sides: DrSides) -> None:
        """Make the replica's database a standalone primary; a no-op if it already is."""
        ...

    def scale(self, view: StackView, count: int) -> None:
        """Run `count` app instances in the stack's compute group (a no-op where the group
        is scaled by converging the stack, e.g. a site)."""
        ...

    def route(self, sides: DrSides, to: StackView) -> None:
        """Point the failover record at `to`'s ingress (a no-op without a zone)."""
        ...

    def ingress_health(self, view: StackView) -> IngressHealth:
        """Ask the stack's ingress for `/healthz`."""
        ...

    def write_marker(self, view: StackView, name: str) -> Marker:
        """Write a marker row and object into the stack's database and store."""
        ...

    def read_marker(self, view: StackView, name: str) -> Marker | None:
        """The marker as the stack sees it, or None if its row is absent."""
        ...


HEALTH_TIMEOUT_SECONDS = 5.0


def health_of(status: int, body: bytes | str) -> IngressHealth:
    """An ingress's answer to `/healthz`: healthy on 200, with what the example app reports of
    itself (appVersion, its database's role) when the body is its JSON."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = None
    version = role = None
    if isinstance(data, dict):
        version = data.get("appVersion")
        database = data.get("database")
        role = database.get("role") if isinstance(database, dict) else None
    words = [str(status)]
    if version:
        words.append(f"appVersion {version}")
    if role:
        words.append(f"database {role}")
    return IngressHealth(
        status == 200,
        ", ".join(words),
        str(version) if version else None,
        str(role) if role else None,
    )


def http_health(endpoint: str, path: str, timeout: float = HEALTH_TIMEOUT_SECONDS) -> IngressHealth:
    """GET `path` through an ingress reachable from this machine (a cloud load balancer)."""
    url = endpoint.rstrip("/") + "/" + path.lstrip("/")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return health_of(answer.status, answer.read())
    except urllib.error.HTTPError as exc:
        return health_of(exc.code, exc.read())
    except (urllib.error.URLError, OSError) as exc:
        return IngressHealth(False, f"{url}: {getattr(exc, 'reason', exc)}")


def operations_of(module: str) -> DrOperations:
    """A target's operations: `OPERATIONS` in its ops module (Target.ops)."""
    if not module:
        raise OperationUnavailable("this target has no DR operations")
    found: DrOperations = importlib.import_module(module).OPERATIONS
    return found
