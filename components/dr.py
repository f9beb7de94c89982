"""A DR replica's view of its primary: what it reads from the primary's contract.

A DR stage promotes from its primary like any stage, and also builds a replica of the
primary's data. `replica_source` reads what that needs from the primary's stack outputs and
names every missing key, so a primary deployed by an older template is refused before any
resource is registered, with the fix.

Pure: no Pulumi, so the operator and the tests use it as well as the program.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

DrRoleName = Literal["standby", "active"]

NEEDED: tuple[tuple[str, ...], ...] = (
    ("region",),
    ("network", "id"),
    ("network", "cidr"),
    ("network", "site"),
    ("database", "resourceId"),
    ("database", "endpoint"),
    ("database", "engineVersion"),
    ("storage", "resourceId"),
    ("storage", "bucket"),
    ("compute", "minCount"),
    ("ingress", "endpoint"),
    ("ingress", "address"),
    ("replication", "user"),
    ("replication", "password"),
)
"""Contract keys (1.1) a replica is built from, as paths into the outputs."""


@dataclass(frozen=True)
class ReplicaSource:
    """The primary, as its contract describes it."""

    stage: str
    region: str
    """The primary's region or site name."""
    site: str
    """Where the primary is managed from: a cloud region, or its libvirt site's URI."""
    network_id: str
    cidr: str
    database_id: str
    """The cloud's id of the primary database (an ARN across regions on AWS): the replica's
    source."""
    database_endpoint: str
    engine_version: str
    storage_id: str
    bucket: str
    compute_min_count: int
    ingress_endpoint: str
    ingress_address: str
    replication_user: str
    replication_password: Any
    """A Pulumi secret Output inside a program; plain text never leaves it."""


@dataclass(frozen=True)
class ReplicaPlan:
    """What a DR stage builds: the replica's source, its mode and its recorded role."""

    source: ReplicaSource
    mode: str
    """`pilot-light` or `warm-standby`."""
    role: DrRoleName
    dns_zone: str | None = None

    @property
    def active(self) -> bool:
        return self.role == "active"

    def compute_count(self, own_min: int) -> int:
        """Running app instances: none in a pilot light, the stage's minimum in a warm standby,
        and once active at least what the primary ran."""
        if self.active:
            return max(own_min, self.source.compute_min_count)
        return 0 if self.mode == "pilot-light" else own_min


def _at(outputs: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = outputs
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def missing_keys(outputs: Mapping[str, Any]) -> list[str]:
    """Dotted contract keys a replica needs that the primary's outputs lack."""
    return [".".join(path) for path in NEEDED if _at(outputs, path) in (None, "")]


def replica_source(stage: str, outputs: Mapping[str, Any]) -> ReplicaSource:
    """The primary's contract as a ReplicaSource; ValueError names the missing keys."""
    missing = missing_keys(outputs)
    if missing:
        raise ValueError(f"its outputs lack {', '.join(missing)}")
    return ReplicaSource(
        stage=stage,
        region=str(outputs["region"]),
        site=str(_at(outputs, ("network", "site"))),
        network_id=str(_at(outputs, ("network", "id"))),
        cidr=str(_at(outputs, ("network", "cidr"))),
        database_id=str(_at(outputs, ("database", "resourceId"))),
        database_endpoint=str(_at(outputs, ("database", "endpoint"))),
        engine_version=str(_at(outputs, ("database", "engineVersion"))),
        storage_id=str(_at(outputs, ("storage", "resourceId"))),
        bucket=str(_at(outputs, ("storage", "bucket"))),
        compute_min_count=int(_at(outputs, ("compute", "minCount"))),
        ingress_endpoint=str(_at(outputs, ("ingress", "endpoint"))),
        ingress_address=str(_at(outputs, ("ingress", "address"))),
        replication_user=str(_at(outputs, ("replication", "user"))),
        replication_password=_at(outputs, ("replication", "password")),
    )
