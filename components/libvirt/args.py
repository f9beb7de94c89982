"""Target-only args: each concern's common args plus the stage's libvirt site."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pulumi

from components.compute import ComputeArgs
from components.database import DatabaseArgs
from components.libvirt.site import LibvirtSite
from components.network import NetworkArgs
from components.observability import ObservabilityArgs
from components.storage import StorageArgs


@dataclass(frozen=True)
class LibvirtNetworkArgs(NetworkArgs):
    site: LibvirtSite | None = None
    """The stage's libvirt site. Required on libvirt."""


@dataclass(frozen=True)
class LibvirtComputeArgs(ComputeArgs):
    site: LibvirtSite | None = None
    """The stage's libvirt site. Required on libvirt."""


@dataclass(frozen=True)
class LibvirtDatabaseArgs(DatabaseArgs):
    site: LibvirtSite | None = None
    """The stage's libvirt site. Required on libvirt."""


@dataclass(frozen=True)
class LibvirtStorageArgs(StorageArgs):
    site: LibvirtSite | None = None
    """The stage's libvirt site. Required on libvirt."""


@dataclass(frozen=True)
class LibvirtObservabilityArgs(ObservabilityArgs):
    site: LibvirtSite | None = None
    """The stage's libvirt site. Required on libvirt."""


_EXTENDED: dict[type, type] = {
    NetworkArgs: LibvirtNetworkArgs,
    ComputeArgs: LibvirtComputeArgs,
    DatabaseArgs: LibvirtDatabaseArgs,
    StorageArgs: LibvirtStorageArgs,
    ObservabilityArgs: LibvirtObservabilityArgs,
}


def extend(common: Any, site: Any) -> Any:
    """The libvirt args class for `common`'s concern, with the same values and the site."""
    cls = _EXTENDED[type(common)]
    return cls(**{f.name: getattr(common, f.name) for f in fields(common)}, site=site)


def network_of(args: Any) -> pulumi.Output[str]:
    """The libvirt network domains attach to: the site's one "subnet"."""
    return pulumi.Output.from_input(args.subnet_ids).apply(lambda ids: ids[0])


def site_of(args: Any) -> LibvirtSite:
    if args.site is None:
        raise ValueError(f"{type(args).__name__} needs the stage's libvirt site")
    return args.site
