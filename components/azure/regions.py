"""The Azure regions stageline knows, with the zones every account can use (some regions have
more, restricted to older accounts)."""

from __future__ import annotations

from components.places import Regions

_ZONES = ("1", "2", "3")

REGIONS = Regions(
    "azure",
    {
        region: _ZONES
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
)
