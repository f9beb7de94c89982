"""Whether plugins (and the official engine) can be downloaded here: asked once, at install.

Commands never probe: ``stageline engine install`` records the answer (see ``Layout``), and
every later command passes it on to the engine as its plugin-acquisition setting.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable, Mapping

DOWNLOAD_HOST = "get.pulumi.com"
PROBE_TIMEOUT_S = 3.0
# Set to skip the download probe entirely, e.g. on machines that must not even try.
OFFLINE_ENV = "STAGELINE_ENGINE_OFFLINE"

Probe = Callable[[], bool]


def download_site_reachable(host: str = DOWNLOAD_HOST, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether host:443 accepts a connection within timeout seconds.

    create_connection resolves the name first and connects only to what resolved: where the
    resolver knows only the package registries, no packet is ever sent to the host. The
    resolution itself is bounded by the resolver's own timeout and attempts (resolv.conf);
    it runs once per install, never per command, so no thread is spent on bounding it tighter.
    """
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


@functools.cache
def _probe_once() -> bool:
    # One probe per process: the engine install and the plugin install would otherwise both ask.
    return download_site_reachable()


def can_download(probe: Probe | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether plugins can be downloaded here: not forced offline, and the site answers."""
    env = os.environ if environ is None else environ
    if env.get(OFFLINE_ENV):
        return False
    return (probe or _probe_once)()


def acquisition_env(online: bool) -> dict[str, str]:
    """The engine's plugin-acquisition setting: on where it can download, fail-fast elsewhere."""
    return {"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "false" if online else "true"}
