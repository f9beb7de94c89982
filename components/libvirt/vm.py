"""One VM: a copy-on-write overlay of the base image, a cloud-init seed, extra disks, a domain.

A VM is immutable: a new seed (a new release, new settings) or a new image makes a new VM, root
disk and all, so no guest carries state from an older configuration. Data lives on the extra
disks, which are resources of their own and survive.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pulumi

from components.libvirt.resources.domain import LibvirtDomain
from components.libvirt.resources.storage import LibvirtVolume
from components.libvirt.site import LibvirtSite
from components.libvirt.sizes import DOMAIN_SIZES


@dataclass(frozen=True)
class VmSpec:
    hostname: str
    role: str
    """What the VM is for ("app", "database"): recorded on the domain, read by status."""
    size: str
    user_data: pulumi.Input[str]
    """cloud-init user-data; pass a secret Output when it carries one."""
    network: pulumi.Input[str]
    root_gb: int = 10
    data_disks: list[pulumi.Input[str]] = field(default_factory=list)
    """Paths of extra volumes attached after the root disk."""
    mac: str | None = None
    """The interface's MAC where the network has a fixed lease for it; else libvirt picks."""


def revision(image_digest: str, user_data: str) -> str:
    """What makes a new VM: the image and the seed. A digest only, so the seed's secrets stay
    in the seed (which state keeps encrypted)."""
    return hashlib.sha256(f"{image_digest}\0{user_data}".encode()).hexdigest()[:16]


def build_vm(
    name: str,
    site: LibvirtSite,
    vm: VmSpec,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
) -> LibvirtDomain:
    mine = pulumi.ResourceOptions(parent=parent)
    rev = pulumi.Output.unsecret(
        pulumi.Output.from_input(vm.user_data).apply(lambda text: revision(site.image_digest, text))
    )
    root = LibvirtVolume(
        f"{name}-root",
        {
            "uri": site.uri,
            "pool": site.pool.id,
            "name": f"{vm.hostname}-root.qcow2",
            "format": "qcow2",
            "backing": site.base_volume.path,
            "capacityGb": vm.root_gb,
            "revision": rev,
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
    boot = site.boot
    return LibvirtDomain(
        f"{name}-domain",
        {
            "uri": site.uri,
            "stack": site.stack,
            "name": vm.hostname,
            "role": vm.role,
            "vcpus": vcpus,
            "memoryMib": memory,
            "domainType": site.settings.domain_type,
            "disks": pulumi.Output.all(root.path, *vm.data_disks),
            "cdrom": cidata.path,
            "network": vm.network,
            "mac": vm.mac,
            "consoleLog": f"{site.log_dir}/{vm.hostname}.log",
            "kernel": boot.kernel if boot else None,
            "initrd": boot.initrd if boot else None,
            "cmdline": boot.cmdline if boot else None,
            "revision": rev,
        },
        pulumi.ResourceOptions(parent=parent, depends_on=[site.log_dir_ready, *(depends_on or [])]),
    )
