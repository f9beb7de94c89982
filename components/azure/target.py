"""The Azure target as the operator sees it: its section, rules, plan-time values and kit.

Imports no Azure SDK.
"""

from __future__ import annotations

from components.azure.regions import REGIONS
from components.azure.rules import validate
from components.azure.settings import parse_settings
from components.targets import Computed, Target

# What the provider computes after create, per resource type (for offline plans).
_COMPUTED: dict[str, Computed] = {
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


TARGET = Target(
    name="azure",
    kit="components.azure.kit",
    places=REGIONS,
    sdk=("pulumi_azure_native",),
    settings=parse_settings,
    rules=validate,
    computed=_COMPUTED,
    mock_calls={
        "azure-native:authorization:getClientConfig": {
            "subscriptionId": "00000000-0000-0000-0000-000000000000",
            "tenantId": "11111111-1111-1111-1111-111111111111",
            "clientId": "mock-client",
            "objectId": "mock-object",
        },
    },
)
