"""What the policy pack (policy/) needs to know about Azure (azure-native) resources: type tokens
and the input properties (camelCase, as the engine sends them) that hold encryption, public
access, network rules, data protection, tags, custom data and sizes. SDK-free."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.azure.grants import PERMISSIONS
from components.azure.sizes import POSTGRES_SKUS, VM_SIZES
from policy.facts import BootText, IngressRule, SizeReading, TargetPolicy, reverse
from policy.model import Problem, Resource
from policy.values import decode_base64, get, is_false, items, known, number, plain

SERVER = "azure-native:dbforpostgresql:Server"
FIREWALL_RULE = "azure-native:dbforpostgresql:FirewallRule"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
SCALE_SET = "azure-native:compute:VirtualMachineScaleSet"
VIRTUAL_MACHINE = "azure-native:compute:VirtualMachine"
NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"

ENCRYPTION_TYPES = ("SystemManaged", "AzureKeyVault")


def _storage_encryption(resource: Resource) -> list[Problem]:
    problems: list[Problem] = []
    for service in ("blob", "file", "queue", "table"):
        path = f"encryption.services.{service}.enabled"
        if is_false(get(resource.inputs, path)):
            problems.append(
                Problem(path, False, f"{service} data is not encrypted", f"set {path}: true")
            )
    return problems


def _server_encryption(resource: Resource) -> list[Problem]:
    kind = plain(get(resource.inputs, "dataEncryption.type"))
    if kind is None or not known(kind) or kind in ENCRYPTION_TYPES:
        return []
    return [
        Problem(
            "dataEncryption.type",
            kind,
            "not an encryption Flexible Server knows",
            "use SystemManaged (or AzureKeyVault with a key)",
        )
    ]


def _server_public(resource: Resource) -> list[Problem]:
    access = plain(get(resource.inputs, "network.publicNetworkAccess"))
    if access != "Enabled":
        return []
    return [
        Problem(
            "network.publicNetworkAccess",
            access,
            "the server accepts connections from the internet",
            "set publicNetworkAccess: Disabled and reach it through its delegated subnet",
        )
    ]


def _firewall_rule_public(resource: Resource) -> list[Problem]:
    start = plain(resource.inputs.get("startIpAddress"))
    end = plain(resource.inputs.get("endIpAddress"))
    if start != "0.0.0.0" or end != "255.255.255.255":
        return []
    return [
        Problem(
            "startIpAddress-endIpAddress",
            f"{start}-{end}",
            "the firewall rule admits every address",
            "remove the rule; the server is reached through its private network",
        )
    ]


def _port_ranges(rule: dict[str, Any]) -> tuple[tuple[int, int], ...] | None:
    written = [plain(rule.get("destinationPortRange"))]
    more = plain(rule.get("destinationPortRanges"))
    if isinstance(more, list | tuple):
        written.extend(plain(p) for p in more)
    ranges: list[tuple[int, int]] = []
    for port in (str(p) for p in written if p is not None):
        if port == "*":
            return None
        low, _, high = port.partition("-")
        if low.isdigit() and (high or low).isdigit():
            ranges.append((int(low), int(high or low)))
    return tuple(ranges)


def _inbound(where: str, rule: dict[str, Any]) -> list[IngressRule]:
    if str(plain(rule.get("direction", ""))).lower() != "inbound":
        return []
    if str(plain(rule.get("access", ""))).lower() != "allow":
        return []
    sources = [plain(rule.get("sourceAddressPrefix"))]
    more = plain(rule.get("sourceAddressPrefixes"))
    if isinstance(more, list | tuple):
        sources.extend(plain(s) for s in more)
    return [IngressRule(where, tuple(str(s) for s in sources if s), _port_ranges(rule))]


def _nsg(resource: Resource) -> list[IngressRule]:
    found: list[IngressRule] = []
    for where, rule in items(resource.inputs, "securityRules"):
        if isinstance(rule, dict):
            found.extend(_inbound(where, rule))
    return found


def _security_rule(resource: Resource) -> list[IngressRule]:
    return _inbound("securityRule", dict(resource.inputs))


def _server_protection(resource: Resource) -> list[Problem]:
    days = get(resource.inputs, "backup.backupRetentionDays")
    if known(days) and not (number(days) or 0) > 0:
        return [
            Problem(
                "backup.backupRetentionDays",
                plain(days),
                "production data has no backups",
                "set database.backupRetentionDays (7 or more)",
            )
        ]
    return []


def _no_own_settings(resource: Resource) -> list[Problem]:
    # A storage account's deletion protection is the resource's `protect` (checked by the rule).
    return []


def _boot(*paths: str) -> Callable[[Resource], list[BootText]]:
    def read(resource: Resource) -> list[BootText]:
        found: list[BootText] = []
        for path in paths:
            value = get(resource.inputs, path)
            if value is not None and known(value):
                found.append(BootText(path, decode_base64(value)))
        return found

    return read


def _sku(classes: dict[str, str]) -> Callable[[Resource], list[SizeReading]]:
    by_shape = reverse(classes)

    def read(resource: Resource) -> list[SizeReading]:
        value = plain(get(resource.inputs, "sku.name"))
        if not isinstance(value, str):
            return []
        return [SizeReading("sku.name", value, by_shape.get(value))]

    return read


TAGGABLE: tuple[str, ...] = (
    SCALE_SET,
    VIRTUAL_MACHINE,
    SERVER,
    "azure-native:keyvault:Secret",
    "azure-native:keyvault:Vault",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:monitor:ActionGroup",
    "azure-native:monitor:AutoscaleSetting",
    "azure-native:monitor:DataCollectionRule",
    "azure-native:monitor:MetricAlert",
    "azure-native:network:LoadBalancer",
    "azure-native:network:NatGateway",
    NSG,
    "azure-native:network:PublicIPAddress",
    "azure-native:network:VirtualNetwork",
    "azure-native:operationalinsights:Workspace",
    "azure-native:privatedns:PrivateZone",
    "azure-native:privatedns:VirtualNetworkLink",
    "azure-native:resources:ResourceGroup",
    STORAGE_ACCOUNT,
)
"""Every taggable type the Azure template registers, and the virtual machine a hand edit may add
(their SDK args take `tags`).
Checked against the installed SDK when written; a new taggable type must be added here."""

POLICY = TargetPolicy(
    encryption={STORAGE_ACCOUNT: _storage_encryption, SERVER: _server_encryption},
    public_database={SERVER: _server_public, FIREWALL_RULE: _firewall_rule_public},
    permissions=PERMISSIONS,
    ingress={NSG: _nsg, SECURITY_RULE: _security_rule},
    data={SERVER: _server_protection, STORAGE_ACCOUNT: _no_own_settings},
    tags=dict.fromkeys(TAGGABLE, "tags"),
    boot={
        SCALE_SET: _boot(
            "virtualMachineProfile.osProfile.customData", "virtualMachineProfile.userData"
        ),
        VIRTUAL_MACHINE: _boot("osProfile.customData", "userData"),
    },
    sizes={SCALE_SET: _sku(VM_SIZES), SERVER: _sku(POSTGRES_SKUS)},
    not_checked={
        "encryption-at-rest": "managed disks are always encrypted (server-side); only a storage "
        "account's services and a server's key type can be set",
    },
)
