"""The application VMs: minCount domains running the release's container image.

libvirt has no autoscaling, so a site runs compute.minCount VMs; maxCount bounds a manual
scale-out (raise minCount).

A site has no secret store: the application's variables, the database password among them,
reach each VM only inside its cloud-init seed, which is a secret in state (like the database
VM's seed) and lands on the guest as a root-only env file.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.compute import (
    APP_ENV_DATABASE_PASSWORD,
    APP_ENV_FILE,
    AppConnection,
    Compute,
    ComputeArgs,
    app_environment_of,
)
from components.container import docker_run, env_file_text
from components.libvirt.args import network_of
from components.libvirt.cloudinit import user_data
from components.libvirt.resources.domain import LibvirtDomain
from components.libvirt.site import LibvirtSite
from components.libvirt.vm import VmSpec, build_vm


def app_user_data(
    hostname: str, key: str, artifact: str, port: int, variables: Mapping[str, str]
) -> str:
    return user_data(
        hostname,
        key,
        packages=["docker.io"],
        write_files=[
            {
                "path": APP_ENV_FILE,
                "permissions": "0600",
                "owner": "root:root",
                "content": env_file_text(variables),
            }
        ],
        run=[
            ["systemctl", "enable", "--now", "docker"],
            # cloud-init runs string commands through a shell: the artifact is quoted.
            docker_run(artifact, port),
        ],
    )


def app_variables(port: int, app: AppConnection | None) -> pulumi.Output[dict[str, str]]:
    """Every variable the application reads; secret when it carries the password."""
    environment = app_environment_of(port, app)
    if app is None:
        return environment
    return pulumi.Output.all(environment, pulumi.Output.secret(app.database_password)).apply(
        lambda v: {**v[0], APP_ENV_DATABASE_PASSWORD: str(v[1])}
    )


class LibvirtCompute(Compute):
    domains: list[LibvirtDomain]

    def __init__(
        self,
        name: str,
        args: ComputeArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        site: LibvirtSite,
    ) -> None:
        super().__init__("stageline:compute:LibvirtCompute", name, None, opts)
        network = network_of(args.subnet_ids)
        variables = app_variables(args.spec.app_port, args.app)
        self.domains = []
        for i in range(args.spec.min_count):
            hostname = f"{site.stack}-app-{i}"
            seed = variables.apply(
                lambda env, host=hostname: app_user_data(
                    host, site.settings.ssh_public_key, args.artifact, args.spec.app_port, env
                )
            )
            self.domains.append(
                build_vm(
                    f"{name}-{i}",
                    site,
                    VmSpec(
                        hostname=hostname,
                        size=args.spec.size,
                        user_data=pulumi.Output.secret(seed),
                        network=network,
                    ),
                    self,
                )
            )
        self._publish(f"{site.stack}-app")
