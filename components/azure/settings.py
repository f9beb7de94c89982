"""The `stageline:azure` section: what only an Azure stage sets. Imports no Azure SDK."""

from __future__ import annotations

import re
from typing import Any

from pydantic.dataclasses import dataclass

from components.azure.naming import STORAGE_ACCOUNT_NAME
from components.errors import ConfigIssue
from components.model import MODEL_CONFIG, OptionalText, validate_section

SECTION = "azure"
RESOURCE_GROUP = re.compile(r"[\w\-.()]{0,89}[\w\-()]")
"""Azure's resource group names: 1-90 letters, digits, `_-.()`, not ending in a period."""


@dataclass(frozen=True, config=MODEL_CONFIG)
class AzureSettings:
    storage_account_name: OptionalText = None
    """The storage account name, 3 to 24 lowercase letters and digits, unique across Azure.
    Default: derived from the stack name with a random suffix."""
    dns_zone_resource_group: OptionalText = None
    """The resource group of the Azure DNS zone `disasterRecovery.dnsZone`, which a DR stage
    adds its failover record to; the zone must exist. Default `stageline-dns`."""


def parse_settings(raw: Any) -> tuple[AzureSettings | None, list[ConfigIssue]]:
    return validate_section(AzureSettings, raw, SECTION, _checks)


def _checks(settings: AzureSettings) -> list[ConfigIssue]:
    return _account_name(settings) + _zone_group(settings)


def _zone_group(settings: AzureSettings) -> list[ConfigIssue]:
    group = settings.dns_zone_resource_group
    if group is None or RESOURCE_GROUP.fullmatch(group):
        return []
    return [
        ConfigIssue(
            f"{SECTION}.dnsZoneResourceGroup",
            group,
            "not an Azure resource group name (1 to 90 letters, digits, _ - . ( ), "
            "not ending in a period)",
            "name the resource group that holds the DNS zone, e.g. shop-dns",
        )
    ]


def _account_name(settings: AzureSettings) -> list[ConfigIssue]:
    account = settings.storage_account_name
    if account is not None and not STORAGE_ACCOUNT_NAME.fullmatch(account):
        return [
            ConfigIssue(
                f"{SECTION}.storageAccountName",
                account,
                f"an Azure storage account name is 3 to 24 lowercase letters and digits "
                f"({len(account)} characters given)",
                "use e.g. acmeshopprod01 (no hyphens, underscores or capitals), or remove "
                f"{SECTION}.storageAccountName to derive one from the stack",
            )
        ]
    return []
