"""The app's entry point on GCP: a global external Application Load Balancer.

A health check on `/healthz` at the app port, a backend service on the compute's managed
instance group, a URL map, an HTTP proxy and a global forwarding rule. The rule's address is
what the contract publishes and Cloud DNS's failover record health-checks. It is the rule's
own (ephemeral) address, kept as long as the rule is: a re-created rule gets a new one, which
the next `up` of the DR stage writes into the record.

Who may connect: the load balancer's proxies, not the clients, reach the instances, so a
firewall cannot tell clients apart. A Cloud Armor policy on the backend service admits only
`client_cidrs` (and Google's health checkers); everything else gets a 403. The firewall admits
the proxies and health checkers (Google's ranges), and the client ranges, to the app port.
"""

from __future__ import annotations

import pulumi
from pulumi_gcp import compute

from components.gcp.compute import APP_PORT_NAME, GcpCompute
from components.gcp.naming import APP_TAG, labels
from components.ingress import Ingress, IngressArgs

GOOGLE_FRONT_ENDS = ("35.191.0.0/16", "130.211.0.0/22")
"""Where Google's health checks and external Application Load Balancer proxies come from."""
OPEN_WORLD = frozenset({"0.0.0.0/0", "*", "::/0"})
RANGES_PER_RULE = 10
"""Cloud Armor takes at most ten ranges in one rule's match."""
DEFAULT_RULE_PRIORITY = 2147483647
SCHEME = "EXTERNAL_MANAGED"


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


def armor_rules(clients: list[str]) -> list[dict[str, object]]:
    """Allow the clients and Google's checkers, ten ranges a rule; deny the rest."""
    allowed = [*clients, *GOOGLE_FRONT_ENDS]
    rules: list[dict[str, object]] = [
        {
            "action": "allow",
            "priority": 1000 + i,
            "description": "stageline ingress clients",
            "match": {
                "versioned_expr": "SRC_IPS_V1",
                "config": {"src_ip_ranges": allowed[start : start + RANGES_PER_RULE]},
            },
        }
        for i, start in enumerate(range(0, len(allowed), RANGES_PER_RULE))
    ]
    rules.append(
        {
            "action": "deny(403)",
            "priority": DEFAULT_RULE_PRIORITY,
            "description": "everyone else",
            # Cloud Armor's default rule must match every source; it denies.
            "match": {"versioned_expr": "SRC_IPS_V1", "config": {"src_ip_ranges": ["*"]}},
        }
    )
    return rules


class GcpIngress(Ingress):
    firewall: compute.Firewall
    health_check: compute.HealthCheck
    policy: compute.SecurityPolicy
    backend: compute.BackendService
    url_map: compute.URLMap
    proxy: compute.TargetHttpProxy
    forwarding_rule: compute.GlobalForwardingRule

    def __init__(
        self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:ingress:GcpIngress", name, None, opts)
        group = args.compute
        if not isinstance(group, GcpCompute):
            raise TypeError(f"{name}: the GCP ingress balances a GcpCompute group")
        mine = pulumi.ResourceOptions(parent=self)
        clients = client_ranges(args.client_cidrs)
        port = args.spec.app_port
        tags = labels(args.tags)

        self.firewall = compute.Firewall(
            f"{name}-lb",
            network=args.network_id,
            direction="INGRESS",
            source_ranges=sorted({*GOOGLE_FRONT_ENDS, *clients}),
            allows=[{"protocol": "tcp", "ports": [str(port)]}],
            target_tags=[APP_TAG],
            opts=mine,
        )
        self.health_check = compute.HealthCheck(
            f"{name}-hc",
            http_health_check={"port": port, "request_path": args.health_path},
            check_interval_sec=5,
            timeout_sec=5,
            healthy_threshold=2,
            unhealthy_threshold=2,
            opts=mine,
        )
        self.policy = compute.SecurityPolicy(
            f"{name}-clients",
            description="stageline: only the ingress's client ranges",
            rules=armor_rules(clients),
            labels=tags,
            opts=mine,
        )
        self.backend = compute.BackendService(
            f"{name}-backend",
            protocol="HTTP",
            port_name=APP_PORT_NAME,
            load_balancing_scheme=SCHEME,
            timeout_sec=30,
            health_checks=self.health_check.id,
            security_policy=self.policy.id,
            backends=[
                {
                    "group": group.group.instance_group,
                    "balancing_mode": "UTILIZATION",
                    "capacity_scaler": 1.0,
                }
            ],
            # The firewall admits the proxies and checkers before traffic is sent.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.firewall]),
        )
        self.url_map = compute.URLMap(f"{name}-urls", default_service=self.backend.id, opts=mine)
        self.proxy = compute.TargetHttpProxy(f"{name}-proxy", url_map=self.url_map.id, opts=mine)
        self.forwarding_rule = compute.GlobalForwardingRule(
            f"{name}-http",
            target=self.proxy.id,
            ip_version="IPV4",
            ip_protocol="TCP",
            port_range=str(args.listen_port),
            load_balancing_scheme=SCHEME,
            labels=tags,
            opts=mine,
        )
        self._publish(self.forwarding_rule.ip_address, args.listen_port)
