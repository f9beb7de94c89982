"""Failover routing on GCP: `app.<zone>.` in a Cloud DNS zone with a failover routing policy.

The primary target is the preferred side's ingress address, the backup (a geo item in the
fallback's region) the other side's. Cloud DNS health-checks both through a global HTTP health
check on `/healthz`, and answers with the backup when the primary fails it.

Limits, from Cloud DNS: health checks of external endpoints (the load balancers' public
addresses) need a public zone; a private zone health-checks internal load balancers only. The
health check probes from three source regions, which Cloud DNS requires: the two sides' regions
and one more. The zone is shared by stages and outlives them: it is assumed to exist, as the
managed zone `stageline:gcp.dnsManagedZone` (default: the zone's name with dots as hyphens,
`example-com` for `example.com`).
"""

from __future__ import annotations

import pulumi
from pulumi_gcp import compute, dns

from components.ingress import LISTEN_PORT
from components.routing import Routing, RoutingArgs

TTL_SECONDS = 30
"""Short, so resolvers follow a failover within a minute."""
CHECK_INTERVAL_SECONDS = 30
"""The shortest interval a health check with source regions takes."""
SOURCE_REGIONS = 3
"""Cloud DNS health checks probe from exactly three regions."""
SPARE_REGIONS = ("us-central1", "europe-west1", "asia-east1", "us-east1")


def managed_zone_name(zone: str) -> str:
    """The default managed zone name for a DNS zone: `example.com` -> `example-com`."""
    return zone.rstrip(".").replace(".", "-")


def probe_regions(*sides: str) -> list[str]:
    """Three distinct regions: the sides' own, then spares."""
    regions: list[str] = []
    for region in (*sides, *SPARE_REGIONS):
        if region and region not in regions:
            regions.append(region)
    return regions[:SOURCE_REGIONS]


class GcpRouting(Routing):
    health_check: compute.HealthCheck
    record: dns.RecordSet

    def __init__(
        self,
        name: str,
        args: RoutingArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        managed_zone: str | None = None,
    ) -> None:
        """`managed_zone` is `stageline:gcp.dnsManagedZone`, the Cloud DNS zone holding
        `args.zone`. Default: `args.zone` with dots as hyphens."""
        super().__init__("stageline:routing:GcpRouting", name, None, opts)
        mine = pulumi.ResourceOptions(parent=self)
        self.health_check = compute.HealthCheck(
            f"{name}-hc",
            http_health_check={"port": LISTEN_PORT, "request_path": args.health_path},
            source_regions=probe_regions(args.preferred.region, args.fallback.region),
            check_interval_sec=CHECK_INTERVAL_SECONDS,
            timeout_sec=10,
            opts=mine,
        )
        self.record = dns.RecordSet(
            f"{name}-record",
            managed_zone=managed_zone or managed_zone_name(args.zone),
            name=f"{args.fqdn}.",
            type="A",
            ttl=TTL_SECONDS,
            routing_policy={
                "health_check": self.health_check.id,
                "primary_backup": {
                    "primary": {"external_endpoints": [args.preferred.address]},
                    "backup_geos": [
                        {
                            "location": args.fallback.region,
                            "health_checked_targets": {
                                "external_endpoints": [args.fallback.address]
                            },
                        }
                    ],
                    # No share of traffic to the backup while the primary is healthy.
                    "trickle_ratio": 0,
                },
            },
            opts=mine,
        )
        self._publish(args.fqdn)
