"""The Azure target as the operator sees it: its section, rules, plan-time values and kit.

Imports no Azure SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from components.azure.regions import REGIONS
from components.azure.rules import validate
from components.azure.settings import parse_settings
from components.targets import Target

if TYPE_CHECKING:
    from components.kit import KitBuilder


def _kit() -> KitBuilder:
    from components.azure.kit import build

    return build


# What the provider computes after create, per resource type (for offline plans).
_COMPUTED: dict[str, Any] = {
    "azure-native:dbforpostgresql:Server": lambda name: {
        "fullyQualifiedDomainName": f"{name}.postgres.database.azure.com",
    },
    # Azure answers user-assigned identities as a map by resource ID where the input is a list.
    "azure-native:compute:VirtualMachineScaleSet": lambda name: {
        "identity": {"type": "UserAssigned"},
    },
    "azure-native:managedidentity:UserAssignedIdentity": lambda name: {
        "principalId": f"{name}-principal",
        "clientId": f"{name}-client",
    },
    "azure-native:storage:StorageAccount": lambda name: {
        "primaryEndpoints": {"blob": f"https://{name.replace('-', '')}.blob.core.windows.net/"},
    },
}


def mock_state(typ: str, name: str, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    computed = _COMPUTED.get(typ)
    return computed(name) if computed else {}


TARGET = Target(
    name="azure",
    kit=_kit,
    places=REGIONS,
    sdk=("pulumi_azure_native",),
    settings=parse_settings,
    rules=validate,
    mock_state=mock_state,
    mock_calls={
        "azure-native:authorization:getClientConfig": {
            "subscriptionId": "00000000-0000-0000-0000-000000000000",
            "tenantId": "11111111-1111-1111-1111-111111111111",
            "clientId": "mock-client",
            "objectId": "mock-object",
        },
    },
)
