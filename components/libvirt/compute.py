"""The application VMs: minCount domains running the release's container image.

libvirt has no autoscaling, so a site runs compute.minCount VMs; maxCount bounds a manual
scale-out (raise minCount).

A site has no secret store: the application's variables, the database password among them,
reach each VM only inside its cloud-init seed, which is a secret in state (like the database
VM's seed) and lands on the guest as a root-only env file.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

import pulumi

from components.compute import (
    APP_ENV_DATABASE_PASSWORD,
    APP_ENV_FILE,
    APP_ENV_PORT,
    AppConnection,
    Compute,
    ComputeArgs,
    app_environment,
)
from components.libvirt.args import network_of
from components.libvirt.cloudinit import user_data
from components.libvirt.resources.domain import LibvirtDomain
from components.libvirt.site import LibvirtSite
from components.libvirt.vm import VmSpec, build_vm


def env_file(variables: Mapping[str, str]) -> str:
    """`docker run --env-file` text: one NAME=value a line, taken literally (no quoting)."""
    for name, value in variables.items():
        if "\n" in value or "\r" in value:
            # The value itself is never shown: it may be the password.
            raise ValueError(f"{name} holds a line break and cannot be written to {APP_ENV_FILE}")
    return "".join(f"{name}={value}\n" for name, value in variables.items())


def app_user_data(
    hostname: str, key: str, artifact: str, port: int, variables: Mapping[str, str]
) -> str:
    run = ["docker", "run", "-d", "--restart=always", "-p", f"{port}:{port}"]
    run += ["--env-file", APP_ENV_FILE, artifact]
    return user_data(
        hostname,
        key,
        packages=["docker.io"],
        write_files=[
            {
                "path": APP_ENV_FILE,
                "permissions": "0600",
                "owner": "root:root",
                "content": env_file(variables),
            }
        ],
        run=[
            ["systemctl", "enable", "--now", "docker"],
            # cloud-init runs string commands through a shell: the artifact is quoted.
            shlex.join(run),
        ],
    )


def app_variables(port: int, app: AppConnection | None) -> pulumi.Output[dict[str, str]]:
    """Every variable the application reads; secret when it carries the password."""
    if app is None:
        return pulumi.Output.from_input({APP_ENV_PORT: str(port)})
    return pulumi.Output.all(
        app.database_host,
        app.database_port,
        app.bucket_name,
        pulumi.Output.secret(app.database_password),
    ).apply(
        lambda v: {
            **app_environment(
                port, str(v[0]), int(v[1]), app.database_name, app.database_user, str(v[2])
            ),
            APP_ENV_DATABASE_PASSWORD: str(v[3]),
        }
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
        self.group_name = pulumi.Output.from_input(f"{site.stack}-app")
        self._register()
