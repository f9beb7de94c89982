"""The application VMs: minCount domains running the release.

libvirt has no autoscaling, so a site runs compute.minCount VMs; maxCount bounds a manual
scale-out (raise minCount).

The release runs as the systemd unit `stageline-app`. A file release (`file://PATH`) is packed
here and travels inside the VM's cloud-init seed, since a site's guests reach no registry or
file server; an OCI image is run with podman, which needs a registry the site's guests reach.
A new release is a new seed, and a new seed makes new VMs (components/libvirt/vm.py).

A site has no secret store: the application's variables, the database password among them,
reach each VM only inside its seed, which is a secret in state (like the database VM's seed)
and lands on the guest as a root-only env file.
"""

from __future__ import annotations

import base64
import shlex
from collections.abc import Mapping
from pathlib import Path

import pulumi

from components.compute import (
    APP_ENV_DATABASE_PASSWORD,
    APP_ENV_FILE,
    Compute,
    ComputeArgs,
    app_environment_of,
)
from components.container import env_file_text
from components.libvirt.args import network_of
from components.libvirt.cloudinit import user_data
from components.libvirt.guest_script import Step, script
from components.libvirt.resources.domain import LibvirtDomain
from components.libvirt.site import LibvirtSite
from components.libvirt.vm import VmSpec, build_vm
from components.release_artifact import local_path, packed

APP_UNIT = "stageline-app"
RELEASE_DIR = "/opt/stageline/release"
RELEASE_ARCHIVE = "/var/lib/stageline/release.tar.gz"
SETUP = "/etc/stageline/app-setup.sh"
LISTEN_SECONDS = 90


def unit_text(artifact: str, is_file: bool, port: int) -> str:
    if is_file:
        run = (
            f"WorkingDirectory={RELEASE_DIR}\nExecStart={RELEASE_DIR}/start\n"
            # The release runs as a throwaway user; systemd reads the env file as root.
            "DynamicUser=yes\n"
        )
    else:
        command = shlex.join(
            [
                "/usr/bin/podman", "run", "--rm", "--name", APP_UNIT,
                "-p", f"{port}:{port}", "--env-file", APP_ENV_FILE, artifact,
            ]
        )  # fmt: skip
        run = f"ExecStartPre=-/usr/bin/podman rm -f {APP_UNIT}\nExecStart={command}\n"
    return (
        "[Unit]\nDescription=stageline application\n"
        "After=network-online.target\nWants=network-online.target\n\n"
        f"[Service]\nEnvironmentFile={APP_ENV_FILE}\n{run}"
        "Restart=always\nRestartSec=2\n\n[Install]\nWantedBy=multi-user.target\n"
    )


def setup_steps(is_file: bool, port: int) -> list[Step]:
    steps = []
    if is_file:
        steps.append(
            Step(
                "unpack the release",
                f"rm -rf {RELEASE_DIR} && mkdir -p {RELEASE_DIR}\n"
                f"tar -xzf {RELEASE_ARCHIVE} -C {RELEASE_DIR} --no-same-owner\n"
                f"test -x {RELEASE_DIR}/start",
            )
        )
    steps += [
        Step(
            "start the application",
            f"systemctl daemon-reload\nsystemctl enable --now {APP_UNIT}.service",
        ),
        # Listening is the app's part; whether its database answers is health, not setup.
        Step(
            "wait for the application to listen",
            f"python3 -c 'import socket,sys,time\n"
            f"end = time.monotonic() + {LISTEN_SECONDS}\n"
            "while True:\n"
            "    try:\n"
            f'        socket.create_connection(("127.0.0.1", {port}), 2).close(); break\n'
            "    except OSError:\n"
            '        if time.monotonic() > end: sys.exit("not listening")\n'
            "        time.sleep(1)'",
        ),
    ]
    return steps


def app_user_data(
    hostname: str,
    key: str,
    artifact: str,
    release: bytes | None,
    port: int,
    variables: Mapping[str, str],
) -> str:
    """The seed of one app VM; `release` is the packed file release, None for an image."""
    files = [
        {
            "path": APP_ENV_FILE,
            "permissions": "0600",
            "owner": "root:root",
            "content": env_file_text(variables),
        },
        {
            "path": f"/etc/systemd/system/{APP_UNIT}.service",
            "permissions": "0644",
            "content": unit_text(artifact, release is not None, port),
        },
        {
            "path": SETUP,
            "permissions": "0700",
            "content": script(setup_steps(release is not None, port)),
        },
    ]
    if release is not None:
        files.append(
            {
                "path": RELEASE_ARCHIVE,
                "permissions": "0600",
                "encoding": "b64",
                "content": base64.b64encode(release).decode(),
            }
        )
    return user_data(hostname, key, write_files=files, run=[SETUP])


def app_variables(args: ComputeArgs) -> pulumi.Output[dict[str, str]]:
    """Every variable the application reads; secret when it carries the password."""
    environment = app_environment_of(args)
    app = args.app
    if app is None:
        return environment
    return pulumi.Output.all(environment, pulumi.Output.secret(app.database_password)).apply(
        lambda v: {**v[0], APP_ENV_DATABASE_PASSWORD: str(v[1])}
    )


def app_hostname(stack: str, index: int) -> str:
    return f"{stack}-app-{index}"


class LibvirtCompute(Compute):
    domains: list[LibvirtDomain]
    hostnames: list[str]
    """The app VMs' names, which the network's DNS resolves (the ingress proxy's backends)."""
    network: pulumi.Output[str]
    """The network the VMs attach to."""

    def __init__(
        self,
        name: str,
        args: ComputeArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        site: LibvirtSite,
    ) -> None:
        super().__init__("stageline:compute:LibvirtCompute", name, None, opts)
        network = self.network = network_of(args.subnet_ids)
        variables = app_variables(args)
        path = local_path(args.artifact, Path(args.project_root))
        release = packed(path) if path is not None else None
        self.domains = []
        self.hostnames = [app_hostname(site.stack, i) for i in range(args.spec.min_count)]
        for i, hostname in enumerate(self.hostnames):
            seed = variables.apply(
                lambda env, host=hostname: app_user_data(
                    host,
                    site.settings.ssh_public_key,
                    args.artifact,
                    release,
                    args.spec.app_port,
                    env,
                )
            )
            self.domains.append(
                build_vm(
                    f"{name}-{i}",
                    site,
                    VmSpec(
                        hostname=hostname,
                        role="app",
                        size=args.spec.size,
                        user_data=pulumi.Output.secret(seed),
                        network=network,
                    ),
                    self,
                )
            )
        self._publish(f"{site.stack}-app")
