"""Where the database's private service access range sits in the stage network. No GCP SDK."""

from __future__ import annotations

import ipaddress

from components.network import plan_subnets

MIN_SERVICE_RANGE_PREFIX = 24
"""Cloud SQL needs an allocated range of at least a /24."""


def service_range(cidr: str, zone_count: int) -> ipaddress.IPv4Network:
    """The range reserved for private service access: the upper half of the last public range.

    The subnet plan hands the whole stage network to the public and private tiers, and Cloud SQL
    needs a range that no subnet uses. Public subnets hold nothing on GCP (Cloud NAT is a
    managed service, not an instance in a subnet), so the last one gives up half its range. The
    private ranges stay exactly those of every other target.
    """
    last_public = ipaddress.ip_network(plan_subnets(cidr, zone_count).public[-1])
    return list(last_public.subnets(prefixlen_diff=1))[1]  # type: ignore[return-value]


def public_ranges(cidr: str, zone_count: int) -> tuple[str, ...]:
    public = list(plan_subnets(cidr, zone_count).public)
    public[-1] = str(next(ipaddress.ip_network(public[-1]).subnets(prefixlen_diff=1)))
    return tuple(public)
