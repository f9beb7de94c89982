"""Regions each target knows, with their zones.

A static catalogue keeps validation offline and free of provider calls: a typo in a region is
caught before the engine or any credentials are involved. Zones are the ones every account
can use (some regions have more, restricted to older accounts).
"""

from __future__ import annotations

from components.targets import TARGET_NAMES

TARGETS: tuple[str, ...] = TARGET_NAMES


def _aws(region: str, letters: str) -> tuple[str, ...]:
    return tuple(f"{region}{letter}" for letter in letters)


def _gcp(region: str, letters: str) -> tuple[str, ...]:
    return tuple(f"{region}-{letter}" for letter in letters)


_AZURE_ZONES = ("1", "2", "3")

ZONES: dict[str, dict[str, tuple[str, ...]]] = {
    "aws": {
        "us-east-1": _aws("us-east-1", "abcdef"),
        "us-east-2": _aws("us-east-2", "abc"),
        "us-west-1": _aws("us-west-1", "ac"),
        "us-west-2": _aws("us-west-2", "abcd"),
        "ca-central-1": _aws("ca-central-1", "abd"),
        "eu-west-1": _aws("eu-west-1", "abc"),
        "eu-west-2": _aws("eu-west-2", "abc"),
        "eu-west-3": _aws("eu-west-3", "abc"),
        "eu-central-1": _aws("eu-central-1", "abc"),
        "eu-north-1": _aws("eu-north-1", "abc"),
        "ap-southeast-1": _aws("ap-southeast-1", "abc"),
        "ap-southeast-2": _aws("ap-southeast-2", "abc"),
        "ap-northeast-1": _aws("ap-northeast-1", "acd"),
        "sa-east-1": _aws("sa-east-1", "abc"),
    },
    "azure": {
        region: _AZURE_ZONES
        for region in (
            "eastus",
            "eastus2",
            "westus2",
            "westus3",
            "centralus",
            "northeurope",
            "westeurope",
            "uksouth",
            "francecentral",
            "germanywestcentral",
            "swedencentral",
            "southeastasia",
            "australiaeast",
            "japaneast",
        )
    },
    "gcp": {
        "us-central1": _gcp("us-central1", "abcf"),
        "us-east1": _gcp("us-east1", "bcd"),
        "us-east4": _gcp("us-east4", "abc"),
        "us-west1": _gcp("us-west1", "abc"),
        "europe-west1": _gcp("europe-west1", "bcd"),
        "europe-west3": _gcp("europe-west3", "abc"),
        "europe-west4": _gcp("europe-west4", "abc"),
        "europe-north1": _gcp("europe-north1", "abc"),
        "asia-southeast1": _gcp("asia-southeast1", "abc"),
        "asia-northeast1": _gcp("asia-northeast1", "abc"),
    },
}


def known_regions(target: str) -> tuple[str, ...]:
    return tuple(sorted(ZONES.get(target, {})))


def zones_of(target: str, region: str) -> tuple[str, ...]:
    """Zones of a cloud region; an on-prem site is a single failure domain."""
    if target == "libvirt":
        return ("site",)
    return ZONES[target][region]


def zone_count(target: str, region: str) -> int | None:
    """Zones available where the stage runs; None for a region this catalogue does not know."""
    if target == "libvirt" or region in ZONES.get(target, {}):
        return len(zones_of(target, region))
    return None
