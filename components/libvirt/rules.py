"""Limits of the libvirt target, checked before any resource is registered. Imports no libvirt."""

from __future__ import annotations

from components.errors import ConfigIssue
from components.spec import EnvironmentSpec


def validate(spec: EnvironmentSpec, region: str, stack: str) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    if spec.network.zone_count != 1:
        issues.append(
            ConfigIssue(
                "network.zoneCount",
                spec.network.zone_count,
                "a libvirt site is one failure domain",
                "set network.zoneCount: 1 on libvirt (use a second site as its DR replica)",
            )
        )
    overrides = {
        "compute.sku": spec.compute.sku,
        "database.sku": spec.database.sku,
    }
    for key, value in overrides.items():
        if value is not None:
            issues.append(
                ConfigIssue(
                    key,
                    value,
                    "a cloud-only override; libvirt sizes come from compute.size/database.size",
                    f"remove {key} from this libvirt stage",
                )
            )
    return issues
