"""Concern args from flat keywords, as tests write them: spec fields go into the spec section.

`compute_args(size="small", subnet_ids=[...])` is `ComputeArgs(spec=ComputeSpec(size="small"),
subnet_ids=[...])`, so a test names only what it is about.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from components.compute import ComputeArgs
from components.database import DatabaseArgs
from components.network import NetworkArgs
from components.observability import ObservabilityArgs
from components.spec import (
    ComputeSpec,
    DatabaseSpec,
    NetworkSpec,
    ObservabilitySpec,
    StorageSpec,
)
from components.storage import StorageArgs

S = TypeVar("S")


def _split(spec_type: type[S], flat: dict[str, Any]) -> tuple[S, dict[str, Any]]:
    names = {f.name for f in fields(spec_type)}  # type: ignore[arg-type]
    spec = spec_type(**{k: v for k, v in flat.items() if k in names})
    return spec, {k: v for k, v in flat.items() if k not in names}


def compute_args(**flat: Any) -> ComputeArgs:
    spec, rest = _split(ComputeSpec, flat)
    return ComputeArgs(spec=spec, **rest)


def database_args(**flat: Any) -> DatabaseArgs:
    spec, rest = _split(DatabaseSpec, flat)
    return DatabaseArgs(spec=spec, **rest)


def storage_args(**flat: Any) -> StorageArgs:
    spec, rest = _split(StorageSpec, flat)
    return StorageArgs(spec=spec, **rest)


def network_args(**flat: Any) -> NetworkArgs:
    spec, rest = _split(NetworkSpec, flat)
    return NetworkArgs(spec=spec, **rest)


def observability_args(**flat: Any) -> ObservabilityArgs:
    spec, rest = _split(ObservabilitySpec, flat)
    return ObservabilityArgs(spec=spec, **rest)
