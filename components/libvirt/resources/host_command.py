"""Host-level steps on the KVM host: over SSH with strict host-key checking, or locally.

The role pulumi-command's remote.Command plays elsewhere (that provider cannot be built here).
A remote host's key must be in the known_hosts file named by the libvirt URI; an unknown or
changed key is refused, never accepted.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

from components.libvirt.uri import SiteUri

TIMEOUT_S = 60


class HostCommandError(RuntimeError):
    pass


def run_on_host(uri: str, command: str) -> str:
    settings = SiteUri(uri)
    if not settings.is_remote:
        proc = subprocess.run(
            ["/bin/sh", "-c", command], capture_output=True, text=True, timeout=TIMEOUT_S
        )
        if proc.returncode != 0:
            raise HostCommandError(f"`{command}` failed on this host: {proc.stderr.strip()}")
        return proc.stdout
    # Imported here: only remote sites need SSH, and every program run and provider call on a
    # local site would otherwise pay for loading it.
    import paramiko

    client = paramiko.SSHClient()
    client.load_host_keys(settings.query("known_hosts") or "")
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            settings.ssh_host,
            port=settings.ssh_port,
            username=settings.ssh_user,
            key_filename=settings.query("keyfile"),
            timeout=15,
            allow_agent=False,
            look_for_keys=settings.query("keyfile") is None,
        )
        _, stdout, stderr = client.exec_command(command, timeout=TIMEOUT_S)
        status = stdout.channel.recv_exit_status()
        out, err = stdout.read().decode(), stderr.read().decode()
    except (OSError, paramiko.SSHException) as exc:
        raise HostCommandError(f"cannot run `{command}` on {settings.ssh_host}: {exc}") from exc
    finally:
        client.close()
    if status != 0:
        raise HostCommandError(f"`{command}` failed on {settings.ssh_host}: {err.strip()}")
    return out


class HostCommandProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        stdout = run_on_host(props["uri"], props["create"])
        return CreateResult(f"{props['uri']}#{props['name']}", {**props, "stdout": stdout})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("uri", "name", "create", "delete") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if props.get("delete"):
            run_on_host(props["uri"], props["delete"])


class HostCommand(Resource, module="libvirt", name="HostCommand"):
    stdout: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        uri: str,
        create: str,
        delete: str = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            HostCommandProvider(),
            resource_name,
            {"uri": uri, "name": resource_name, "create": create, "delete": delete, "stdout": None},
            opts,
        )
