"""Properties every Azure stage in stacks/ must have, and what prod-like settings turn on."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Iterator

import pytest
from pulumi.runtime import rpc

from components.azure.naming import DATABASE_SUBNET
from components.network import plan_subnets
from stageline.plan.recorder import PlannedResource
from stageline.plan.runner import StagePlan
from stageline.plan.runner import unwrap_secrets as plain
from stageline.stack_files import read_stack_file
from tests.conftest import REPO_STACKS, all_stack_names
from tests.unit.planned import of_type, one

STAGES = [
    s
    for s in all_stack_names()
    if read_stack_file(REPO_STACKS / f"Pulumi.{s}.yaml").values["target"] == "azure"
]
SANDBOX = "sandbox-azure"
SENSITIVE_PORTS = (22, 5432)
OPEN_WORLD = {"*", "0.0.0.0/0", "::/0", "Internet", "Any"}

NSG = "azure-native:network:NetworkSecurityGroup"
SERVER = "azure-native:dbforpostgresql:Server"
ACCOUNT = "azure-native:storage:StorageAccount"
VMSS = "azure-native:compute:VirtualMachineScaleSet"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
SECRET = "azure-native:keyvault:Secret"
PROD_LIKE = {
    "tier": "production",
    "protectData": True,
    "database.size": "medium",
    "database.highAvailability": True,
    "database.deletionProtection": True,
    "database.backupRetentionDays": 30,
    "observability.logRetentionDays": 365,
}


def test_at_least_one_stage_runs_on_azure() -> None:
    assert SANDBOX in STAGES


def _covers(port_range: str, port: int) -> bool:
    if port_range == "*":
        return True
    low, _, high = port_range.partition("-")
    return int(low) <= port <= int(high or low)


def inbound_allow_rules(plan: StagePlan) -> Iterator[tuple[PlannedResource, dict]]:
    for nsg in of_type(plan, NSG):
        for rule in nsg.inputs.get("securityRules", []):
            if rule["direction"] == "Inbound" and rule["access"] == "Allow":
                yield nsg, rule


def sources(rule: dict) -> set[str]:
    return {rule.get("sourceAddressPrefix") or "", *rule.get("sourceAddressPrefixes", [])} - {""}


def _values(stage: str) -> dict:
    return read_stack_file(REPO_STACKS / f"Pulumi.{stage}.yaml").values


@pytest.mark.parametrize("stage", STAGES)
def test_encryption_is_on(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    account = one(plan, ACCOUNT)
    encryption = account.inputs["encryption"]
    assert encryption["requireInfrastructureEncryption"] is True, account.urn
    assert all(s["enabled"] for s in encryption["services"].values()), account.urn
    assert account.inputs["enableHttpsTrafficOnly"] is True, account.urn
    assert account.inputs["minimumTlsVersion"] == "TLS1_2", account.urn
    server = one(plan, SERVER)
    assert server.inputs["dataEncryption"]["type"] == "SystemManaged", server.urn
    assert rpc.is_rpc_secret(server.inputs["administratorLoginPassword"]), server.urn
    tls = one(plan, "azure-native:dbforpostgresql:Configuration")
    assert (tls.inputs["configurationName"], tls.inputs["value"]) == (
        "require_secure_transport",
        "on",
    ), tls.urn
    os_disk = plain(one(plan, VMSS).inputs["virtualMachineProfile"])["storageProfile"]["osDisk"]
    # Managed disks are encrypted at rest; an unmanaged VHD would not be.
    assert "managedDisk" in os_disk and "vhdContainers" not in os_disk, os_disk


@pytest.mark.parametrize("stage", STAGES)
def test_no_database_is_publicly_reachable(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    server = one(plan, SERVER)
    net = server.inputs["network"]
    assert net["publicNetworkAccess"] == "Disabled", server.urn
    network_id = plain(plan.exports["network"])["id"]
    assert net["delegatedSubnetResourceId"] == f"{network_id}/subnets/{DATABASE_SUBNET}", net
    assert not of_type(plan, "azure-native:dbforpostgresql:FirewallRule")

    subnet = next(
        r
        for r in of_type(plan, "azure-native:network:Subnet")
        if r.inputs.get("subnetName") == DATABASE_SUBNET
    )
    assert subnet.inputs["delegations"][0]["serviceName"].startswith("Microsoft.DBforPostgreSQL")
    values = _values(stage)["network"]
    stage_net = ipaddress.ip_network(values["cidr"])
    private = plan_subnets(values["cidr"], values["zoneCount"]).private
    db_range = ipaddress.ip_network(subnet.inputs["addressPrefix"])
    assert db_range.subnet_of(stage_net), subnet.urn
    others = [r for r in of_type(plan, "azure-native:network:Subnet") if r is not subnet]
    assert not any(
        db_range.overlaps(ipaddress.ip_network(r.inputs["addressPrefix"])) for r in others
    )

    db_rules = [
        (n, r) for n, r in inbound_allow_rules(plan) if _covers(r["destinationPortRange"], 5432)
    ]
    assert db_rules, "no rule admits the private tier to PostgreSQL"
    for nsg, rule in db_rules:
        assert sources(rule) <= set(private), f"{nsg.urn}: {rule}"


@pytest.mark.parametrize("stage", STAGES)
def test_no_open_ingress_to_ssh_or_database(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    assert len(of_type(plan, NSG)) >= 4, [r.urn for r in plan.resources]
    for nsg, rule in inbound_allow_rules(plan):
        for port in SENSITIVE_PORTS:
            assert not (
                _covers(rule["destinationPortRange"], port) and sources(rule) & OPEN_WORLD
            ), f"{nsg.urn} opens port {port} to the world: {rule}"


@pytest.mark.parametrize("stage", STAGES)
def test_tags_carry_stage_and_release(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    release = plain(plan.exports["release"])["appVersion"]
    tagged = [r for r in plan.resources if r.custom and "tags" in r.inputs]
    assert len(tagged) >= 15, f"{stage}: only {len(tagged)} tagged resources"
    for r in tagged:
        assert r.inputs["tags"].get("stageline-stage") == stage, f"{r.urn}: {r.inputs['tags']}"
        if r.type in (ACTION_GROUP, SECRET):
            # A release must not update these: updating the group drops the receivers operators
            # added, and updating the secret writes a new version of it.
            assert "stageline-release" not in r.inputs["tags"], r.urn
            continue
        assert r.inputs["tags"].get("stageline-release") == release, f"{r.urn}: {r.inputs['tags']}"


@pytest.mark.parametrize("stage", STAGES)
def test_compute_runs_the_release_artifact(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    artifact = plain(plan.exports["release"])["artifact"]
    vmss = one(plan, VMSS)
    # The profile carries the admin password, so the whole of it is a secret.
    profile = plain(vmss.inputs["virtualMachineProfile"])
    # Custom data would reach only instances created after a release: an extension carries it.
    assert "customData" not in profile["osProfile"], vmss.urn
    release = next(e for e in profile["extensionProfile"]["extensions"] if e["name"] == "release")
    script = base64.b64decode(release["settings"]["script"]).decode()
    assert artifact in script, vmss.urn
    assert "--env-file /etc/stageline/app.env" in script, vmss.urn


@pytest.mark.parametrize("stage", STAGES)
def test_sizes_and_subnets_follow_the_stack_file(
    repo_plans: dict[str, StagePlan], stage: str
) -> None:
    values = _values(stage)
    plan = repo_plans[stage]
    autoscale = one(plan, "azure-native:monitor:AutoscaleSetting")
    capacity = autoscale.inputs["profiles"][0]["capacity"]
    compute = values["compute"]
    assert (capacity["minimum"], capacity["maximum"]) == (
        str(compute["minCount"]),
        str(compute["maxCount"]),
    ), autoscale.urn
    vmss = one(plan, VMSS)
    zones = values["network"]["zoneCount"]
    assert vmss.inputs["zones"] == [str(i + 1) for i in range(zones)], vmss.urn
    subnets = of_type(plan, "azure-native:network:Subnet")
    assert len(subnets) == 2 * zones + 1, [s.urn for s in subnets]
    private = sorted(
        s.inputs["addressPrefix"] for s in subnets if s.name.rsplit("-", 2)[-2] == "private"
    )
    # A stage keeps its private addresses when it changes target.
    assert private == sorted(plan_subnets(values["network"]["cidr"], zones).private)


@pytest.mark.parametrize("stage", STAGES)
def test_storage_account_name_is_valid_and_versioning_follows_the_spec(
    repo_plans: dict[str, StagePlan], stage: str
) -> None:
    plan = repo_plans[stage]
    account = one(plan, ACCOUNT)
    name = account.inputs["accountName"]
    # Azure's documented rule: 3 to 24 characters, lowercase letters and numbers only.
    assert 3 <= len(name) <= 24, f"{account.urn}: {name}"
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789" for c in name), f"{account.urn}: {name}"
    if stage == SANDBOX:
        # Derived from the component name, plus the mocks' random "a1b2c3".
        assert name == "sandboxazurestoraga1b2c3", account.urn
    service = one(plan, "azure-native:storage:BlobServiceProperties")
    assert service.inputs["isVersioningEnabled"] is _values(stage)["storage"].get(
        "versioning", True
    )
    container = one(plan, "azure-native:storage:BlobContainer")
    assert container.inputs["publicAccess"] == "None", container.urn
    assert account.inputs["allowBlobPublicAccess"] is False, account.urn


def test_a_development_stage_is_unprotected(repo_plans: dict[str, StagePlan]) -> None:
    plan = repo_plans[SANDBOX]
    assert not any(r.protect for r in plan.resources), [r.urn for r in plan.resources if r.protect]
    assert not of_type(plan, "azure-native:authorization:ManagementLockByScope")
    server = one(plan, SERVER)
    assert server.inputs["highAvailability"]["mode"] == "Disabled", server.urn


def test_prod_like_settings_set_ha_backups_locks_and_protection(
    plan_edited: Callable[..., StagePlan],
) -> None:
    plan = plan_edited(SANDBOX, {SANDBOX: PROD_LIKE})
    assert plan.ok, plan.error
    server = one(plan, SERVER)
    assert server.inputs["highAvailability"]["mode"] == "ZoneRedundant", server.urn
    assert server.inputs["backup"]["backupRetentionDays"] == 30, server.urn
    assert server.inputs["sku"] == {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}
    lock = one(plan, "azure-native:authorization:ManagementLockByScope")
    assert lock.inputs["level"] == "CanNotDelete", lock.urn
    data = [
        server,
        one(plan, "azure-native:dbforpostgresql:Database"),
        one(plan, ACCOUNT),
        one(plan, "azure-native:storage:BlobContainer"),
    ]
    # Deleting a resource group deletes its contents: the groups holding data are kept too.
    data += [
        r
        for r in of_type(plan, "azure-native:resources:ResourceGroup")
        if r.name.endswith(("-database-rg", "-storage-rg"))
    ]
    assert len(data) == 6
    for r in data:
        assert r.protect and r.retain_on_delete, r.urn
    workspace = one(plan, "azure-native:operationalinsights:Workspace")
    assert workspace.inputs["retentionInDays"] == 365, workspace.urn


def test_prod_switches_to_azure_by_target_and_region_alone(
    plan_edited: Callable[..., StagePlan],
) -> None:
    # Its DR replica follows it to the same target (in another region).
    plan = plan_edited(
        "prod",
        {
            "prod": {"target": "azure", "region": "westeurope"},
            "prod-dr": {"target": "azure", "region": "northeurope"},
        },
    )
    assert plan.ok, plan.error
    assert plain(plan.exports["target"]) == "azure"
    server = one(plan, SERVER)
    assert server.inputs["highAvailability"]["mode"] == "ZoneRedundant", server.urn
    assert server.protect and server.retain_on_delete, server.urn
    assert server.inputs["storage"]["storageSizeGB"] == 256, server.urn
    assert len(of_type(plan, "azure-native:network:NatGateway")) == 3
    assert one(plan, VMSS).inputs["zones"] == ["1", "2", "3"]
