"""A target's kit: one factory per concern, bound to what the stage's target needs.

A target's `kit.py` defines `build(KitSite) -> TargetKit`. What it builds before the concerns
(an explicit provider, a libvirt site) is bound into the factories (functools.partial), so the
common args stay the same on every target and nothing extends them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import pulumi

from components.compute import Compute, ComputeArgs
from components.database import Database, DatabaseArgs
from components.ingress import Ingress, IngressArgs
from components.network import Network, NetworkArgs
from components.observability import Observability, ObservabilityArgs
from components.routing import Routing, RoutingArgs
from components.storage import Storage, StorageArgs

A_contra = TypeVar("A_contra", contravariant=True)
C_co = TypeVar("C_co", covariant=True)


class Factory(Protocol, Generic[A_contra, C_co]):
    """`Component(name, args, opts)`, with the target's own context already bound."""

    def __call__(
        self, name: str, args: A_contra, opts: pulumi.ResourceOptions | None = None, /
    ) -> C_co: ...


@dataclass(frozen=True)
class KitSite:
    """What a kit is built from: the environment's name, place and the target's settings."""

    name: str
    """The environment component's name (the stack name); children are named from it."""
    region: str
    """Cloud region or on-prem site."""
    settings: Any
    """The target's parsed `stageline:<target>` settings (None for a target without any)."""
    opts: pulumi.ResourceOptions
    """Options for what the kit builds first (parent: the environment)."""


@dataclass(frozen=True)
class TargetKit:
    """One factory per concern, and the explicit providers every concern is created with."""

    network: Factory[NetworkArgs, Network]
    compute: Factory[ComputeArgs, Compute]
    database: Factory[DatabaseArgs, Database]
    storage: Factory[StorageArgs, Storage]
    observability: Factory[ObservabilityArgs, Observability]
    ingress: Factory[IngressArgs, Ingress]
    routing: Factory[RoutingArgs, Routing]
    """Failover routing, built by a DR stage that names a DNS zone."""
    providers: Sequence[pulumi.ProviderResource] = ()
    """Explicit providers pinning the region in code instead of ambient config or env."""
    site: str = ""
    """Where the stage is managed from, for the contract's network.site: the libvirt URI.
    Default: the region."""


KitBuilder = Callable[[KitSite], TargetKit]
