"""The `stageline:azure` section: what only an Azure stage sets. Imports no Azure SDK."""

from __future__ import annotations

from typing import Any

from pydantic.dataclasses import dataclass

from components.azure.naming import STORAGE_ACCOUNT_NAME
from components.errors import ConfigIssue
from components.model import MODEL_CONFIG, OptionalText, validate_section

SECTION = "azure"


@dataclass(frozen=True, config=MODEL_CONFIG)
class AzureSettings:
    storage_account_name: OptionalText = None
    """The storage account name, 3 to 24 lowercase letters and digits, unique across Azure.
    Default: derived from the stack name with a random suffix."""


def parse_settings(raw: Any) -> tuple[AzureSettings | None, list[ConfigIssue]]:
    return validate_section(AzureSettings, raw, SECTION, _account_name)


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
