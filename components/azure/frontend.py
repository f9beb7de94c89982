"""The scale set's load balancer and the app's security rules, built with compute.

Azure binds a scale set to a load balancer's backend pool when the scale set is created, and
a backend pool, its probe and its rule are parts of one load balancer resource. So the load
balancer exists before the scale set (compute builds it here), and the ingress concern, built
after compute, publishes its address and admits its clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from components.azure.naming import dns_label
from components.ingress import HEALTH_PATH, LISTEN_PORT

POOL = "app"
FRONTEND = "public"
PROBE = "healthz"
RULE = "http"
PROBE_INTERVAL_SECONDS = 5
PROBE_THRESHOLD = 2
"""Consecutive failed probes before an instance leaves the rotation."""
LABEL_SCOPE = "ResourceGroupReuse"
"""Azure adds a hash of the resource group to the DNS label, so the label derived from the
stack name is unique in the region and kept if the address is re-created."""
LOAD_BALANCER_SOURCE = "AzureLoadBalancer"
"""Service tag of the load balancer's health probes."""


@dataclass(frozen=True)
class Frontend:
    public_ip: network.PublicIPAddress
    load_balancer: network.LoadBalancer
    pool_id: pulumi.Output[str]
    """The backend pool the scale set's instances join."""

    @property
    def fqdn(self) -> pulumi.Output[str]:
        """The public address's DNS name: what clients and Traffic Manager resolve."""
        return self.public_ip.dns_settings.apply(lambda d: (d.fqdn if d else None) or "")


def _part(lb_id: pulumi.Input[str], kind: str, part: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(lb_id, f"/{kind}/{part}")


def inbound_rule(
    name: str,
    group: network.NetworkSecurityGroup,
    rg: pulumi.Input[str],
    rule: str,
    priority: int,
    access: str,
    sources: Sequence[str] | str,
    port: str,
    parent: pulumi.Resource | None = None,
) -> network.SecurityRule:
    """One inbound rule of the instances' group, as a separate resource (a child of `parent`,
    default the group)."""
    many = not isinstance(sources, str)
    return network.SecurityRule(
        f"{name}-{rule}",
        resource_group_name=rg,
        network_security_group_name=group.name,
        security_rule_name=rule,
        priority=priority,
        direction="Inbound",
        access=access,
        protocol="Tcp" if access == "Allow" else "*",
        source_address_prefix=None if many else sources,  # type: ignore[arg-type]
        source_address_prefixes=list(sources) if many else None,
        source_port_range="*",
        destination_address_prefix="*",
        destination_port_range=port,
        opts=pulumi.ResourceOptions(parent=parent or group),
    )


def app_rules(
    name: str,
    group: network.NetworkSecurityGroup,
    rg: pulumi.Input[str],
    stage_cidr: str,
    app_port: int,
) -> list[network.SecurityRule]:
    """What the inline rules of a group without a load balancer say, plus the probe: the app
    port from the stage network and from the load balancer's probes, nothing else inbound."""
    return [
        inbound_rule(
            name, group, rg, "app-from-stage-network", 100, "Allow", stage_cidr, str(app_port)
        ),
        # A deny-all below would otherwise hide Azure's default allow of the probes.
        inbound_rule(
            name, group, rg, "app-from-probes", 110, "Allow", LOAD_BALANCER_SOURCE, str(app_port)
        ),
        inbound_rule(name, group, rg, "deny-other-inbound", 4096, "Deny", "*", "*"),
    ]


def build_frontend(
    name: str,
    rg: pulumi.Output[str],
    subscription: pulumi.Input[str],
    app_port: int,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> Frontend:
    """A Standard public load balancer: port 80 to the app port, instances in rotation only
    while `/healthz` answers.

    Public, because Traffic Manager probes the entry points from the internet; the instances'
    security group admits only the ranges the ingress names (and the probes).
    """
    ip = network.PublicIPAddress(
        f"{name}-lb-ip",
        resource_group_name=rg,
        sku={"name": "Standard", "tier": "Regional"},
        public_ip_allocation_method="Static",
        dns_settings={"domain_name_label": dns_label(name), "domain_name_label_scope": LABEL_SCOPE},
        tags=tags,
        opts=opts,
    )
    lb_name = f"{name}-lb"
    # Parts of a load balancer refer to each other by ID, before Azure has assigned the
    # balancer's own: the ID is built from its fixed name.
    lb_id = pulumi.Output.concat(
        "/subscriptions/",
        subscription,
        "/resourceGroups/",
        rg,
        f"/providers/Microsoft.Network/loadBalancers/{lb_name}",
    )
    lb = network.LoadBalancer(
        lb_name,
        load_balancer_name=lb_name,
        resource_group_name=rg,
        sku={"name": "Standard", "tier": "Regional"},
        frontend_ip_configurations=[{"name": FRONTEND, "public_ip_address": {"id": ip.id}}],
        backend_address_pools=[{"name": POOL}],
        probes=[
            {
                "name": PROBE,
                "protocol": "Http",
                "port": app_port,
                "request_path": HEALTH_PATH,
                "interval_in_seconds": PROBE_INTERVAL_SECONDS,
                "probe_threshold": PROBE_THRESHOLD,
            }
        ],
        load_balancing_rules=[
            {
                "name": RULE,
                "protocol": "Tcp",
                "frontend_port": LISTEN_PORT,
                "backend_port": app_port,
                "frontend_ip_configuration": {
                    "id": _part(lb_id, "frontendIPConfigurations", FRONTEND)
                },
                "backend_address_pool": {"id": _part(lb_id, "backendAddressPools", POOL)},
                "probe": {"id": _part(lb_id, "probes", PROBE)},
                # Egress goes through the private tier's NAT gateway, not this address.
                "disable_outbound_snat": True,
                "enable_tcp_reset": True,
                "idle_timeout_in_minutes": 4,
            }
        ],
        tags=tags,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=ip)),
    )
    return Frontend(
        public_ip=ip,
        load_balancer=lb,
        # From the balancer's own ID, so the scale set waits for it.
        pool_id=_part(lb.id, "backendAddressPools", POOL),
    )
