"""Abstract size classes mapped to GCE machine types and Cloud SQL tiers, and the catalogues
`compute.sku` and `database.sku` are checked against. Imports no GCP SDK."""

from __future__ import annotations

import difflib
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


def _shapes(family: str, kind: str, vcpus: tuple[int, ...]) -> set[str]:
    return {f"{family}-{kind}-{n}" for n in vcpus}


_E2 = (2, 4, 8, 16, 32)
_N2 = (2, 4, 8, 16, 32, 48, 64, 80, 96, 128)
_N2D = (2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224)
_N4 = (2, 4, 8, 16, 32, 48, 64, 80)
_C3 = (4, 8, 22, 44, 88, 176)
_N1 = (2, 4, 8, 16, 32, 64, 96)
# Each family and kind with the vCPU counts GCE offers for it: e2-highmem stops at 16, n2-highcpu
# and n2d-highmem at 96, and n1 has 1 vCPU only as n1-standard-1 (n1-highcpu-1 does not exist).
MACHINE_CATALOGUE: frozenset[str] = frozenset(
    {"e2-micro", "e2-small", "e2-medium"}
    | _shapes("e2", "standard", _E2)
    | _shapes("e2", "highmem", _E2[:-1])
    | _shapes("e2", "highcpu", _E2)
    | _shapes("n2", "standard", _N2)
    | _shapes("n2", "highmem", _N2)
    | _shapes("n2", "highcpu", _N2[:-1])
    | _shapes("n2d", "standard", _N2D)
    | _shapes("n2d", "highmem", _N2D[:-2])
    | _shapes("n2d", "highcpu", _N2D)
    | _shapes("n4", "standard", _N4)
    | _shapes("n4", "highmem", _N4)
    | _shapes("n4", "highcpu", _N4)
    | _shapes("c3", "standard", _C3)
    | _shapes("c3", "highmem", _C3)
    | _shapes("c3", "highcpu", _C3)
    | _shapes("t2d", "standard", (1, 2, 4, 8, 16, 32, 48, 60))
    | _shapes("n1", "standard", (1, *_N1))
    | _shapes("n1", "highmem", _N1)
    | _shapes("n1", "highcpu", _N1)
)
"""Machine types the instance template accepts (predefined shapes of the common families)."""


def nearest_machine_type(value: str) -> str | None:
    """The machine type closest to `value`: the nearest vCPU count of the same family and kind
    (n1-highcpu-1 -> n1-highcpu-2), else the closest spelling in the catalogue."""
    shape, _, count = value.rpartition("-")
    same = [m for m in MACHINE_CATALOGUE if m.rpartition("-")[0] == shape]
    if same and count.isdigit():
        return min(same, key=lambda m: (abs(int(m.rpartition("-")[2]) - int(count)), m))
    close = difflib.get_close_matches(value, sorted(MACHINE_CATALOGUE), n=1)
    return close[0] if close else None


SHARED_CORE_TIERS = frozenset({"db-f1-micro", "db-g1-small"})
_CUSTOM_TIER = re.compile(r"db-custom-(\d+)-(\d+)")
MEMORY_PER_VCPU_MB = (922, 6656)
"""Cloud SQL Enterprise: 0.9 to 6.5 GB per vCPU, in multiples of 256 MB."""
MIN_MEMORY_MB = 3840
"""And never under 3.75 GB, whatever the vCPU count."""


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
    low, high = max(MEMORY_PER_VCPU_MB[0] * vcpus, MIN_MEMORY_MB), MEMORY_PER_VCPU_MB[1] * vcpus
    if memory % 256 or not low <= memory <= high:
        return f"{memory} MB for {vcpus} vCPUs: use a multiple of 256 MB from {low} to {high}"
    return None
