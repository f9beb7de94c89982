"""One VM: a copy-on-write overlay of the base image, a cloud-init seed, extra disks, a domain."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.libvirt.resources.domain import LibvirtDomain
from components.libvirt.resources.storage import LibvirtVolume
from components.libvirt.site import LibvirtSite
from components.libvirt.sizes import DOMAIN_SIZES


@dataclass(frozen=True)
class VmSpec:
    hostname: str
    size: str
    user_data: pulumi.Input[str]
    """cloud-init user-data; pass a secret Output when it carries one."""
    network: pulumi.Input[str]
    root_gb: int = 10
    data_disks: list[pulumi.Input[str]] = field(default_factory=list)
    """Paths of extra volumes attached after the root disk."""


def build_vm(name: str, site: LibvirtSite, vm: VmSpec, parent: pulumi.Resource) -> LibvirtDomain:
    mine = pulumi.ResourceOptions(parent=parent)
    root = LibvirtVolume(
        f"{name}-root",
        {
            "uri": site.uri,
            "pool": site.pool.id,
            "name": f"{vm.hostname}-root.qcow2",
            "format": "qcow2",
            "backing": site.base_volume.path,
            "capacityGb": vm.root_gb,
        },
        mine,
    )
    cidata = LibvirtVolume(
        f"{name}-cidata",
        {
            "uri": site.uri,
            "pool": site.pool.id,
            "name": f"{vm.hostname}-cidata.iso",
            "format": "raw",
            "cloudInit": {"hostname": vm.hostname, "userData": vm.user_data},
        },
        # The seed may carry secrets (the database password): keep them encrypted in state.
        pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["cloudInit"]),
    )
    vcpus, memory = DOMAIN_SIZES[vm.size]
    return LibvirtDomain(
        f"{name}-domain",
        {
            "uri": site.uri,
            "stack": site.stack,
            "name": vm.hostname,
            "vcpus": vcpus,
            "memoryMib": memory,
            "domainType": site.settings.domain_type,
            "disks": pulumi.Output.all(root.path, *vm.data_disks),
            "cdrom": cidata.path,
            "network": vm.network,
            "consoleLog": f"{site.log_dir}/{vm.hostname}.log",
        },
        pulumi.ResourceOptions(parent=parent, depends_on=[site.log_dir_ready]),
    )
