"""The GCP regions stageline knows, with the zones every account can use (some regions have
more, restricted to older accounts)."""

from __future__ import annotations

from components.places import Regions


def _zones(region: str, letters: str) -> tuple[str, ...]:
    return tuple(f"{region}-{letter}" for letter in letters)


REGIONS = Regions(
    "gcp",
    {
        "us-central1": _zones("us-central1", "abcf"),
        "us-east1": _zones("us-east1", "bcd"),
        "us-east4": _zones("us-east4", "abc"),
        "us-west1": _zones("us-west1", "abc"),
        "europe-west1": _zones("europe-west1", "bcd"),
        "europe-west3": _zones("europe-west3", "abc"),
        "europe-west4": _zones("europe-west4", "abc"),
        "europe-north1": _zones("europe-north1", "abc"),
        "asia-southeast1": _zones("asia-southeast1", "abc"),
        "asia-northeast1": _zones("asia-northeast1", "abc"),
    },
)
