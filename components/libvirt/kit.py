"""The libvirt target: a site per stage (pools, base image) bound into one class per concern."""

from __future__ import annotations

import functools

from components.kit import KitSite, TargetKit
from components.libvirt.compute import LibvirtCompute
from components.libvirt.database import LibvirtDatabase
from components.libvirt.ingress import LibvirtIngress
from components.libvirt.network import LibvirtNetwork
from components.libvirt.observability import LibvirtObservability
from components.libvirt.routing import LibvirtRouting
from components.libvirt.settings import LibvirtSettings
from components.libvirt.site import LibvirtSite, SiteArgs
from components.libvirt.storage import LibvirtStorage


def build(where: KitSite) -> TargetKit:
    settings: LibvirtSettings = where.settings
    site = LibvirtSite(
        f"{where.name}-site", SiteArgs(stack=where.name, settings=settings), where.opts
    )
    return TargetKit(
        network=functools.partial(LibvirtNetwork, site=site),
        compute=functools.partial(LibvirtCompute, site=site),
        database=functools.partial(LibvirtDatabase, site=site),
        storage=functools.partial(LibvirtStorage, site=site),
        observability=functools.partial(LibvirtObservability, site=site),
        ingress=functools.partial(LibvirtIngress, site=site),
        routing=functools.partial(LibvirtRouting, site=site),
        site=settings.uri,
    )
