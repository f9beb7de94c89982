"""The libvirt target: a site per stage (pools, base image) and one class per concern."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.libvirt.args import extend
from components.libvirt.compute import LibvirtCompute
from components.libvirt.database import LibvirtDatabase
from components.libvirt.network import LibvirtNetwork
from components.libvirt.observability import LibvirtObservability
from components.libvirt.settings import parse_settings
from components.libvirt.site import LibvirtSite, SiteArgs
from components.libvirt.storage import LibvirtStorage
from components.targets import TargetKit


def site(
    name: str, stack: str, settings: Mapping[str, Any], opts: pulumi.ResourceOptions
) -> LibvirtSite:
    parsed, issues = parse_settings(settings)
    if parsed is None:  # validated before; guards direct callers
        raise ValueError("; ".join(i.render() for i in issues))
    return LibvirtSite(name, SiteArgs(stack=stack, settings=parsed), opts)


KIT = TargetKit(
    name="libvirt",
    provider=None,
    network=LibvirtNetwork,
    compute=LibvirtCompute,
    database=LibvirtDatabase,
    storage=LibvirtStorage,
    observability=LibvirtObservability,
    site=site,
    extend=extend,
)
