"""The `stageline:gcp` section: what only a GCP stage sets. Imports no GCP SDK."""

from __future__ import annotations

from typing import Any

from pydantic.dataclasses import dataclass

from components.errors import ConfigIssue
from components.gcp.naming import is_rfc1035
from components.model import MODEL_CONFIG, OptionalText, validate_section

SECTION = "gcp"


@dataclass(frozen=True, config=MODEL_CONFIG)
class GcpSettings:
    database_instance_name: OptionalText = None
    """The Cloud SQL instance name (RFC 1035, at most 63 characters). Cloud SQL keeps a
    deleted instance's name for up to a week, so a re-created stage may need a new one.
    Default: derived from the stack name with a random suffix."""
    dns_managed_zone: OptionalText = None
    """The Cloud DNS managed zone (its resource name) that holds `disasterRecovery.dnsZone`,
    which a DR stage adds its failover record to; the zone must exist and be public. Default:
    the zone's name with dots as hyphens (`example-com`)."""


def parse_settings(raw: Any) -> tuple[GcpSettings | None, list[ConfigIssue]]:
    return validate_section(GcpSettings, raw, SECTION, _checks)


def _checks(settings: GcpSettings) -> list[ConfigIssue]:
    return _instance_name(settings) + _managed_zone(settings)


def _managed_zone(settings: GcpSettings) -> list[ConfigIssue]:
    zone = settings.dns_managed_zone
    if zone is None or is_rfc1035(zone):
        return []
    return [
        ConfigIssue(
            f"{SECTION}.dnsManagedZone",
            zone,
            "not a Cloud DNS managed zone name (a lowercase letter, then up to 62 lowercase "
            "letters, digits or hyphens)",
            "give the zone's resource name as `gcloud dns managed-zones list` shows it, "
            "e.g. example-com",
        )
    ]


def _instance_name(settings: GcpSettings) -> list[ConfigIssue]:
    instance = settings.database_instance_name
    if instance is not None and not is_rfc1035(instance):
        return [
            ConfigIssue(
                f"{SECTION}.databaseInstanceName",
                instance,
                "not an RFC 1035 name (a lowercase letter, then up to 62 lowercase letters, "
                "digits or hyphens, not ending in a hyphen)",
                f"use e.g. shop-prod-pg, or remove {SECTION}.databaseInstanceName to derive one",
            )
        ]
    return []
