"""The site's entry point: a small VM with a fixed address running a health-checking proxy
(components/libvirt/ingress_proxy.py) in front of the stage's app VMs.

The proxy reaches the app VMs by their names, which the network's DNS resolves, and asks each
one's `/healthz`. A pilot light has no app VMs: its proxy answers 503 until a failover scales
the stage up, which re-renders the proxy with the new backends.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi

from components.ingress import Ingress, IngressArgs
from components.libvirt.addressing import fixed_address, mac_of
from components.libvirt.cloudinit import user_data
from components.libvirt.compute import LibvirtCompute, app_hostname
from components.libvirt.guest_script import Step, script
from components.libvirt.policy import PROXY_CONFIG_PATH
from components.libvirt.site import LibvirtSite
from components.libvirt.vm import VmSpec, build_vm

PROXY = (Path(__file__).parent / "ingress_proxy.py").read_text()
PROXY_PATH = "/opt/stageline/ingress_proxy.py"
CONFIG_PATH = PROXY_CONFIG_PATH
UNIT = "stageline-ingress"
SETUP = "/etc/stageline/ingress-setup.sh"
SIZE = "xsmall"
"""A proxy needs little: the smallest size."""


def proxy_config(
    backends: list[str], listen: int, health_path: str, allow: list[str] | None = None
) -> str:
    """The proxy's config; `allow`: the client ranges it admits (everyone when None)."""
    body: dict[str, object] = {
        "listen": listen,
        "backends": backends,
        "healthPath": health_path,
        "interval": 2,
    }
    if allow is not None:
        body["allow"] = allow
    return json.dumps(body, indent=2)


def ingress_user_data(hostname: str, key: str, config: str, listen: int) -> str:
    unit = (
        "[Unit]\nDescription=stageline ingress proxy\nAfter=network-online.target\n"
        "Wants=network-online.target\n\n"
        f"[Service]\nExecStart=/usr/bin/python3 {PROXY_PATH} {CONFIG_PATH}\nDynamicUser=yes\n"
        "AmbientCapabilities=CAP_NET_BIND_SERVICE\nRestart=always\nRestartSec=2\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    steps = [
        Step("start the proxy", f"systemctl daemon-reload\nsystemctl enable --now {UNIT}.service"),
        Step(
            "wait for the proxy to listen",
            "python3 -c 'import socket,sys,time\n"
            "end = time.monotonic() + 60\n"
            "while True:\n"
            "    try:\n"
            f'        socket.create_connection(("127.0.0.1", {listen}), 2).close(); break\n'
            "    except OSError:\n"
            '        if time.monotonic() > end: sys.exit("not listening")\n'
            "        time.sleep(1)'",
        ),
    ]
    return user_data(
        hostname,
        key,
        write_files=[
            {"path": PROXY_PATH, "permissions": "0644", "content": PROXY},
            {"path": CONFIG_PATH, "permissions": "0644", "content": config},
            {"path": f"/etc/systemd/system/{UNIT}.service", "permissions": "0644", "content": unit},
            {"path": SETUP, "permissions": "0700", "content": script(steps)},
        ],
        run=[SETUP],
    )


class LibvirtIngress(Ingress):
    def __init__(
        self,
        name: str,
        args: IngressArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        site: LibvirtSite,
    ) -> None:
        super().__init__("stageline:ingress:LibvirtIngress", name, None, opts)
        compute = args.compute
        assert isinstance(compute, LibvirtCompute)
        hostname = f"{site.stack}-ingress"
        port = args.spec.app_port
        # Every name the group may use, up to maxCount: scaling the group (a failover) then
        # leaves the proxy's seed, and so its VM, as it is; absent names just fail the check.
        backends = [f"{app_hostname(site.stack, i)}:{port}" for i in range(args.spec.max_count)]
        config = proxy_config(backends, args.listen_port, args.health_path, list(args.client_cidrs))
        self.domain = build_vm(
            f"{name}-proxy",
            site,
            VmSpec(
                hostname=hostname,
                role="ingress",
                size=SIZE,
                user_data=ingress_user_data(
                    hostname, site.settings.ssh_public_key, config, args.listen_port
                ),
                network=compute.network,
                mac=mac_of(hostname),
            ),
            self,
        )
        self._publish(fixed_address(args.client_cidrs[0], "ingress"), args.listen_port)
