"""Where a stage may run, asked of its target (each target's `target.py` holds its own
catalogue of regions and zones, or its site names; see components/places.py)."""

from __future__ import annotations

from components.targets import TARGET_NAMES, target_of

TARGETS: tuple[str, ...] = TARGET_NAMES


def known_regions(target: str) -> tuple[str, ...]:
    return target_of(target).places.known()


def zones_of(target: str, region: str) -> tuple[str, ...]:
    """Zones of the stage's region or site (a site is a single failure domain)."""
    zones = target_of(target).places.zones(region)
    if zones is None:
        raise ValueError(f"{region!r} is not a {target} region stageline knows")
    return zones


def zone_count(target: str, region: str) -> int | None:
    """Zones available where the stage runs; None for a region the catalogue does not know."""
    zones = target_of(target).places.zones(region)
    return None if zones is None else len(zones)
