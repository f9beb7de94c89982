"""Failover routing on Azure: a Traffic Manager profile with priority routing, and
`app.<zone>` in the stage's Azure DNS zone as a CNAME to it.

Traffic Manager probes `/healthz` through each side's load balancer and answers with the
preferred side while it is healthy, the fallback otherwise. The DR stage owns both; the
environment swaps the priorities once `stageline dr failover` has recorded the replica active,
so a later `up` keeps traffic where the failover put it.

The zone is shared by stages and outlives any of them: it is assumed to exist, in the resource
group `stageline:azure.dnsZoneResourceGroup` (default `stageline-dns`); only the record is
owned here.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random
from pulumi_azure_native import dns, resources, trafficmanager

from components.azure.naming import dns_label
from components.ingress import LISTEN_PORT
from components.routing import RECORD, RoutedSide, Routing, RoutingArgs

DEFAULT_ZONE_GROUP = "stageline-dns"
EXTERNAL = "Microsoft.Network/trafficManagerProfiles/externalEndpoints"
TTL_SECONDS = 30
"""Short, so resolvers follow a failover within a minute."""
PROBE_INTERVAL_SECONDS = 30
PROBE_TIMEOUT_SECONDS = 10
TOLERATED_FAILURES = 3
LABEL_SUFFIX = 6


def endpoint(side: RoutedSide, priority: int) -> dict[str, object]:
    return {
        "name": dns_label(side.stage),
        "type": EXTERNAL,
        "target": side.address,
        "priority": priority,
        "endpoint_status": "Enabled",
        # Informational for priority routing; names where the side runs.
        "endpoint_location": side.region,
    }


class AzureRouting(Routing):
    resource_group: resources.ResourceGroup
    profile: trafficmanager.Profile
    record: dns.RecordSet

    def __init__(
        self,
        name: str,
        args: RoutingArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        zone_resource_group: str | None = None,
    ) -> None:
        """`zone_resource_group` is `stageline:azure.dnsZoneResourceGroup`: where the zone
        `args.zone` lives. Default `stageline-dns`."""
        super().__init__("stageline:routing:AzureRouting", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)
        self.resource_group = resources.ResourceGroup(f"{name}-rg", tags=tags, opts=mine)
        # The profile's name under trafficmanager.net is global: the stage's name plus a
        # random suffix, kept in state.
        suffix = random.RandomString(
            f"{name}-label", length=LABEL_SUFFIX, special=False, upper=False, opts=mine
        )
        label = pulumi.Output.concat(dns_label(name)[: 63 - LABEL_SUFFIX - 1], "-", suffix.result)
        self.profile = trafficmanager.Profile(
            f"{name}-tm",
            resource_group_name=self.resource_group.name,
            location="global",
            profile_status="Enabled",
            traffic_routing_method="Priority",
            dns_config={"relative_name": label, "ttl": TTL_SECONDS},
            monitor_config={
                "protocol": "HTTP",
                "port": LISTEN_PORT,
                "path": args.health_path,
                "interval_in_seconds": PROBE_INTERVAL_SECONDS,
                "timeout_in_seconds": PROBE_TIMEOUT_SECONDS,
                "tolerated_number_of_failures": TOLERATED_FAILURES,
                "expected_status_code_ranges": [{"min": 200, "max": 299}],
            },
            endpoints=[endpoint(args.preferred, 1), endpoint(args.fallback, 2)],
            tags=tags,
            opts=mine,
        )
        fqdn = self.profile.dns_config.apply(lambda c: (c.fqdn if c else None) or "")
        self.record = dns.RecordSet(
            f"{name}-record",
            resource_group_name=zone_resource_group or DEFAULT_ZONE_GROUP,
            zone_name=args.zone,
            relative_record_set_name=RECORD,
            record_type="CNAME",
            ttl=TTL_SECONDS,
            cname_record={"cname": fqdn},
            opts=pulumi.ResourceOptions(parent=self.profile),
        )
        self._publish(args.fqdn)
