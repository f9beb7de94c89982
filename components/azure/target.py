"""The Azure target as the operator sees it: its section, rules, plan-time values and kit.

Imports no Azure SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def _mock_state(typ: str, name: str, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Computed values that depend on a resource's inputs (DNS names from their labels, the
    IDs Azure assigns to a replication policy), else the per-type ones above."""
    if typ == "azure-native:network:PublicIPAddress" and inputs.get("dnsSettings"):
        label = inputs["dnsSettings"].get("domainNameLabel", name)
        return {
            "ipAddress": "203.0.113.10",
            "dnsSettings": {
                **inputs["dnsSettings"],
                "fqdn": f"{label}-a1b2c3.{inputs.get('location', 'region')}.cloudapp.azure.com",
            },
        }
    if typ == "azure-native:trafficmanager:Profile":
        config = dict(inputs.get("dnsConfig") or {})
        return {"dnsConfig": {**config, "fqdn": f"{config.get('relativeName')}.trafficmanager.net"}}
    if typ == "azure-native:storage:ObjectReplicationPolicy":
        rules = inputs.get("rules") or []
        return {
            "policyId": str(inputs.get("objectReplicationPolicyId") or "")
            if inputs.get("objectReplicationPolicyId") != "default"
            else f"{name}-policy",
            "rules": [
                {**r, "ruleId": r.get("ruleId") or f"{name}-rule-{i}"} for i, r in enumerate(rules)
            ],
        }
    computed = _COMPUTED.get(typ)
    return computed(name) if computed else {}


TARGET = Target(
    name="azure",
    kit="components.azure.kit",
    places=REGIONS,
    sdk=("pulumi_azure_native",),
    settings=parse_settings,
    rules=validate,
    computed=_COMPUTED,
    mock_state=_mock_state,
    ops="components.azure.ops",
    policy="components.azure.policy",
    mock_calls={
        "azure-native:authorization:getClientConfig": {
            "subscriptionId": "00000000-0000-0000-0000-000000000000",
            "tenantId": "11111111-1111-1111-1111-111111111111",
            "clientId": "mock-client",
            "objectId": "mock-object",
        },
    },
)
