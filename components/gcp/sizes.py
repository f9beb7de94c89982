"""Abstract size classes mapped to GCE machine types and Cloud SQL tiers, and the catalogues
`compute.sku` and `database.sku` are checked against. Imports no GCP SDK."""

from __future__ import annotations

import re

MACHINE_TYPES: dict[str, str] = {
    "xsmall": "e2-micro",
    "small": "e2-small",
    "medium": "n2-standard-2",
    "large": "n2-standard-4",
    "xlarge": "n2-standard-8",
}

SQL_TIERS: dict[str, str] = {
    "xsmall": "db-f1-micro",
    "small": "db-g1-small",
    "medium": "db-custom-2-7680",
    "large": "db-custom-4-15360",
    "xlarge": "db-custom-8-53248",
}


def _shapes(family: str, kinds: tuple[str, ...], vcpus: tuple[int, ...]) -> set[str]:
    return {f"{family}-{kind}-{n}" for kind in kinds for n in vcpus}


_ALL_KINDS = ("standard", "highmem", "highcpu")
MACHINE_CATALOGUE: frozenset[str] = frozenset(
    {"e2-micro", "e2-small", "e2-medium"}
    | _shapes("e2", _ALL_KINDS, (2, 4, 8, 16, 32))
    | _shapes("n2", _ALL_KINDS, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128))
    | _shapes("n2d", _ALL_KINDS, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224))
    | _shapes("n4", _ALL_KINDS, (2, 4, 8, 16, 32, 48, 64, 80))
    | _shapes("c3", _ALL_KINDS, (4, 8, 22, 44, 88, 176))
    | _shapes("t2d", ("standard",), (1, 2, 4, 8, 16, 32, 48, 60))
    | _shapes("n1", _ALL_KINDS, (1, 2, 4, 8, 16, 32, 64, 96))
)
"""Machine types the instance template accepts (predefined shapes of the common families)."""

SHARED_CORE_TIERS = frozenset({"db-f1-micro", "db-g1-small"})
_CUSTOM_TIER = re.compile(r"db-custom-(\d+)-(\d+)")
MEMORY_PER_VCPU_MB = (922, 6656)
"""Cloud SQL Enterprise: 0.9 to 6.5 GB per vCPU, in multiples of 256 MB."""


def sql_tier_problem(tier: str) -> str | None:
    """Why `tier` is not a Cloud SQL Enterprise tier for PostgreSQL, or None when it is."""
    if tier in SHARED_CORE_TIERS:
        return None
    if tier.startswith("db-perf-optimized-"):
        return (
            "Enterprise Plus tiers need the Enterprise Plus edition, and stageline runs Enterprise"
        )
    match = _CUSTOM_TIER.fullmatch(tier)
    if not match:
        return "not a Cloud SQL tier (db-f1-micro, db-g1-small or db-custom-<vCPUs>-<MB>)"
    vcpus, memory = int(match[1]), int(match[2])
    if vcpus != 1 and (vcpus % 2 or not 2 <= vcpus <= 96):
        return f"{vcpus} vCPUs: use 1 or an even number from 2 to 96"
    low, high = MEMORY_PER_VCPU_MB
    if memory % 256 or not low * vcpus <= memory <= high * vcpus:
        return (
            f"{memory} MB for {vcpus} vCPUs: use a multiple of 256 MB from "
            f"{low * vcpus} to {high * vcpus}"
        )
    return None
