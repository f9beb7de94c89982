"""The application VMs: minCount domains running the release's container image.

libvirt has no autoscaling, so a site runs compute.minCount VMs; maxCount bounds a manual
scale-out (raise minCount).
"""

from __future__ import annotations

import pulumi

from components.compute import Compute
from components.libvirt.args import LibvirtComputeArgs, network_of, site_of
from components.libvirt.cloudinit import user_data
from components.libvirt.resources.domain import LibvirtDomain
from components.libvirt.vm import VmSpec, build_vm


def app_user_data(hostname: str, key: str, artifact: str, port: int) -> str:
    return user_data(
        hostname,
        key,
        packages=["docker.io"],
        write_files=[],
        run=[
            ["systemctl", "enable", "--now", "docker"],
            f"docker run -d --restart=always -p {port}:{port} -e PORT={port} {artifact}",
        ],
    )


class LibvirtCompute(Compute):
    domains: list[LibvirtDomain]

    def __init__(
        self, name: str, args: LibvirtComputeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:compute:LibvirtCompute", name, None, opts)
        site = site_of(args)
        network = network_of(args)
        self.domains = []
        for i in range(args.min_count):
            hostname = f"{site.stack}-app-{i}"
            self.domains.append(
                build_vm(
                    f"{name}-{i}",
                    site,
                    VmSpec(
                        hostname=hostname,
                        size=args.size,
                        user_data=app_user_data(
                            hostname, site.settings.ssh_public_key, args.artifact, args.app_port
                        ),
                        network=network,
                    ),
                    self,
                )
            )
        self.group_name = pulumi.Output.from_input(f"{site.stack}-app")
        self._register()
