"""Where a target runs: a cloud's catalogue of regions and their zones, or named on-prem sites.

A static catalogue keeps validation offline and free of provider calls: a typo in a region is
caught before the engine or any credentials are involved. Each target's `target.py` holds its
own; shared code asks it through the registry.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from components.errors import ConfigIssue


@dataclass(frozen=True)
class Regions:
    """A cloud's regions that stageline knows, each with the zones every account can use."""

    target: str
    zones_by_region: Mapping[str, tuple[str, ...]]

    def known(self) -> tuple[str, ...]:
        return tuple(sorted(self.zones_by_region))

    def zones(self, region: str) -> tuple[str, ...] | None:
        return self.zones_by_region.get(region)

    def zone_limit(self, region: str) -> int | None:
        """Most zones a stage may spread over; None where the region is not known."""
        zones = self.zones(region)
        return None if zones is None else len(zones)

    def validate(self, region: str) -> list[ConfigIssue]:
        if region in self.zones_by_region:
            return []
        known = self.known()
        close = difflib.get_close_matches(str(region), known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return [
            ConfigIssue(
                "region",
                region,
                f"not a {self.target} region stageline knows",
                f"{hint}use one of {', '.join(known)}",
            )
        ]


@dataclass(frozen=True)
class Sites:
    """Named on-prem sites: any well-formed name, each site a single failure domain."""

    pattern: str = r"[a-z][a-z0-9-]{0,30}"

    def known(self) -> tuple[str, ...]:
        return ()

    def zones(self, region: str) -> tuple[str, ...] | None:
        return ("site",)

    def zone_limit(self, region: str) -> int | None:
        # The target's own rules word the one-zone limit of a site.
        return None

    def validate(self, region: str) -> list[ConfigIssue]:
        if re.fullmatch(self.pattern, region or ""):
            return []
        return [
            ConfigIssue(
                "region", region, "not a valid site name", "use lowercase letters, digits, -"
            )
        ]


Places = Regions | Sites
