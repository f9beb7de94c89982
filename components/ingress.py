"""Ingress concern: the app's one entry point, a load balancer (or, on a site, a proxy) that
sends requests only to instances whose `/healthz` answers.

It is built after compute and reads the target's own compute subclass for what it attaches
to. A DR replica's failover routing points at it, and so will promotion checks.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.compute import Compute
from components.spec import ComputeSpec

HEALTH_PATH = "/healthz"
LISTEN_PORT = 80


@dataclass(frozen=True)
class IngressArgs:
    spec: ComputeSpec
    """The `compute` section: the app's port. Required."""
    network_id: pulumi.Input[str]
    """Network the entry point lives in. Required."""
    public_subnet_ids: pulumi.Input[Sequence[str]]
    """Subnets the load balancer faces clients from (none on a site). Required."""
    compute: Compute
    """The group behind it; each target reads its own compute subclass. Required."""
    client_cidrs: tuple[str, ...]
    """Ranges allowed to reach the entry point. Required; never 0.0.0.0/0 by default."""
    health_path: str = HEALTH_PATH
    """Path the health check asks; a 200 marks an instance healthy. Default `/healthz`."""
    listen_port: int = LISTEN_PORT
    """Port clients connect to. Default 80."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""


class Ingress(pulumi.ComponentResource, ABC):
    endpoint: pulumi.Output[str]
    """The app's URL through the entry point."""
    address: pulumi.Output[str]
    """Host name or IP address a DNS record points at."""

    def _publish(self, address: pulumi.Input[str], port: int = LISTEN_PORT) -> None:
        """Set and register the outputs every target's ingress has; called last by each."""
        self.address = pulumi.Output.from_input(address)
        suffix = "" if port == LISTEN_PORT else f":{port}"
        self.endpoint = self.address.apply(lambda a: f"http://{a}{suffix}/")
        self.register_outputs({"endpoint": self.endpoint, "address": self.address})
