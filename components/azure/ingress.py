"""The app's entry point on Azure: the scale set's public Standard load balancer.

Compute builds the balancer (a scale set joins its backend pool when it is created); this
concern, built after compute, admits the clients and publishes the address. The address is
the public IP's DNS name, not the IP: Traffic Manager answers a CNAME to it, and the name
stays when the address resource is re-created.
"""

from __future__ import annotations

import pulumi

from components.azure.compute import AzureCompute
from components.azure.frontend import inbound_rule
from components.ingress import Ingress, IngressArgs

TRAFFIC_MANAGER_SOURCE = "AzureTrafficManager"
"""Service tag of Traffic Manager's probes, which reach `/healthz` through the balancer."""
OPEN_WORLD = frozenset({"0.0.0.0/0", "*", "Internet", "Any", "::/0"})


def client_ranges(cidrs: tuple[str, ...]) -> list[str]:
    """The client ranges, de-duplicated; the world is refused, whatever the caller passed."""
    opened = sorted(set(cidrs) & OPEN_WORLD)
    if opened:
        raise ValueError(
            f"ingress client ranges include {', '.join(opened)}: name the clients' ranges "
            "instead of opening the app to everyone"
        )
    if not cidrs:
        raise ValueError("ingress needs at least one client range (the stage network)")
    return sorted(set(cidrs))


class AzureIngress(Ingress):
    def __init__(
        self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:ingress:AzureIngress", name, None, opts)
        compute = args.compute
        if not isinstance(compute, AzureCompute) or compute.frontend is None:
            raise TypeError(
                f"{name}: the Azure ingress publishes the load balancer AzureCompute builds "
                "with frontend=True (components/azure/kit.py binds it)"
            )
        port = str(args.spec.app_port)
        group, rg = compute.security_group, compute.resource_group.name
        self.client_rule = inbound_rule(
            name,
            group,
            rg,
            "app-from-clients",
            120,
            "Allow",
            client_ranges(args.client_cidrs),
            port,
            parent=self,
        )
        self.monitor_rule = inbound_rule(
            name,
            group,
            rg,
            "app-from-traffic-manager",
            130,
            "Allow",
            TRAFFIC_MANAGER_SOURCE,
            port,
            parent=self,
        )
        self.load_balancer = compute.frontend.load_balancer
        self._publish(compute.frontend.fqdn, args.listen_port)
