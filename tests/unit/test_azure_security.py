"""Security properties of the Azure components, each asserted exactly on the registered inputs.

Each component is built alone under Pulumi mocks (built anew per test, so a mutation tool maps a
mutant to every test that builds it); the recording monitor keeps what was sent to the engine.
The expected values are Azure's documented settings, written out here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.azure.compute import AzureCompute
from components.azure.database import AzureDatabase
from components.azure.storage import AzureStorage
from components.compute import AppConnection, ComputeArgs
from components.database import DatabaseArgs
from components.storage import StorageArgs
from stageline.plan.mocks import PlanMocks
from stageline.plan.recorder import PlannedResource, RecordingMonitor
from stageline.plan.runner import unwrap_secrets as plain

STAGE_NETWORK = "10.60.0.0/16"
APP_PORT = 8080
PASSWORD = "s3cr3t-Pa55word-xyz"
ACCOUNT_ID = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a1"
CONTAINER_URL = "https://a1.blob.core.windows.net/data"
# Azure's built-in role IDs (learn.microsoft.com, "Azure built-in roles").
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def build(make: Callable[[], object]) -> RecordingMonitor:
    """What `make` registers, once every registration has finished."""
    monitor = RecordingMonitor(PlanMocks())
    pulumi.runtime.set_mocks(
        monitor.mocks, project="stageline", stack="unit", preview=False, monitor=monitor
    )
    pulumi.runtime.test(make)()
    return monitor


def only(recorder: RecordingMonitor, type_: str) -> PlannedResource:
    found = [r for r in recorder.planned if r.type == type_]
    assert len(found) == 1, f"expected one {type_}, got {[r.urn for r in found]}"
    return found[0]


# --- storage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("protect", [True, False], ids=["protected", "ephemeral"])
def test_storage_account_is_https_only_tls12_private_and_double_encrypted(
    protect: bool,
) -> None:
    recorder = build(
        lambda: AzureStorage("s", StorageArgs(versioning=True, retention_days=5, protect=protect))
    )
    account = only(recorder, "azure-native:storage:StorageAccount")
    inputs = plain(account.inputs)
    assert inputs["enableHttpsTrafficOnly"] is True, account.urn
    assert inputs["minimumTlsVersion"] == "TLS1_2", account.urn
    assert inputs["allowBlobPublicAccess"] is False, account.urn
    encryption = inputs["encryption"]
    assert encryption["requireInfrastructureEncryption"] is True, account.urn
    assert encryption["keySource"] == "Microsoft.Storage", account.urn
    assert encryption["services"]["blob"]["enabled"] is True, account.urn
    assert account.protect is protect and account.retain_on_delete is protect, account.urn
    container = only(recorder, "azure-native:storage:BlobContainer")
    assert container.inputs["publicAccess"] == "None", container.urn


# --- database ----------------------------------------------------------------------------------


def _db_args(**overrides: Any) -> DatabaseArgs:
    base: dict[str, Any] = dict(
        engine_version="16",
        size="small",
        storage_gb=20,
        network_id="vnet-1",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.60.128.0/18",),
        backup_retention_days=7,
    )
    return DatabaseArgs(**{**base, **overrides})


def test_flexible_server_has_no_public_access_and_requires_tls() -> None:
    recorder = build(lambda: AzureDatabase("d", _db_args()))
    server = only(recorder, "azure-native:dbforpostgresql:Server")
    net = plain(server.inputs)["network"]
    assert net["publicNetworkAccess"] == "Disabled", server.urn
    assert net["delegatedSubnetResourceId"] == "vnet-1/subnets/database", server.urn
    configs = [
        r for r in recorder.planned if r.type == "azure-native:dbforpostgresql:Configuration"
    ]
    tls = [c for c in configs if c.inputs["configurationName"] == "require_secure_transport"]
    assert len(tls) == 1, [c.urn for c in configs]
    assert tls[0].inputs["value"] == "on", tls[0].urn
    assert tls[0].inputs["source"] == "user-override", tls[0].urn


@pytest.mark.parametrize("protect", [True, False])
def test_database_protection_follows_the_spec(protect: bool) -> None:
    recorder = build(
        lambda: AzureDatabase("d", _db_args(protect=protect, deletion_protection=protect))
    )
    server = only(recorder, "azure-native:dbforpostgresql:Server")
    assert server.protect is protect and server.retain_on_delete is protect, server.urn
    database = only(recorder, "azure-native:dbforpostgresql:Database")
    assert database.protect is protect and database.retain_on_delete is protect, database.urn
    locks = [r for r in recorder.planned if r.type.endswith("ManagementLockByScope")]
    assert [lock.inputs["level"] for lock in locks] == (["CanNotDelete"] if protect else [])


# --- compute: the network security group, Key Vault and the identity's grants ------------------


def _app() -> AppConnection:
    return AppConnection(
        database_host="db1.postgres.database.azure.com",
        database_port=5432,
        database_name="app",
        database_user="stageline",
        database_password=pulumi.Output.secret(PASSWORD),
        database_id="/subscriptions/sub/resourceGroups/rg/providers/x/flexibleServers/db1",
        bucket_name=CONTAINER_URL,
        bucket_id=ACCOUNT_ID,
    )


def _compute() -> AzureCompute:
    return AzureCompute(
        "c",
        ComputeArgs(
            size="small",
            min_count=2,
            max_count=4,
            network_id="vnet-1",
            subnet_ids=["s-1", "s-2"],
            ingress_cidr=STAGE_NETWORK,
            artifact="registry/app:2.0.0",
            app_port=APP_PORT,
            app=_app(),
        ),
    )


def test_nsg_admits_only_the_app_port_from_the_stage_network() -> None:
    recorder = build(_compute)
    nsg = only(recorder, "azure-native:network:NetworkSecurityGroup")
    rules = sorted(plain(nsg.inputs)["securityRules"], key=lambda r: r["priority"])
    allow = [r for r in rules if r["access"] == "Allow"]
    assert len(allow) == 1, f"{nsg.urn}: {allow}"
    (app,) = allow
    assert app["direction"] == "Inbound", nsg.urn
    assert app["protocol"] == "Tcp", nsg.urn
    assert app["sourceAddressPrefix"] == STAGE_NETWORK, nsg.urn
    assert app["destinationPortRange"] == str(APP_PORT), nsg.urn
    # Everything else inbound, SSH included, meets a deny after the allow.
    deny = rules[-1]
    assert deny["access"] == "Deny" and deny["direction"] == "Inbound", nsg.urn
    assert deny["priority"] > app["priority"], nsg.urn
    assert (deny["protocol"], deny["sourceAddressPrefix"]) == ("*", "*"), nsg.urn
    assert deny["destinationPortRange"] == "*", nsg.urn
    assert all(r.get("destinationPortRange") != "22" for r in rules), nsg.urn


def test_key_vault_uses_rbac_and_purge_protection_and_the_password_stays_secret() -> None:
    recorder = build(_compute)
    vault = only(recorder, "azure-native:keyvault:Vault")
    props = plain(vault.inputs)["properties"]
    assert props["enableRbacAuthorization"] is True, vault.urn
    assert props["enablePurgeProtection"] is True, vault.urn
    assert props["enableSoftDelete"] is True, vault.urn
    assert props["softDeleteRetentionInDays"] == 7, vault.urn
    assert props["enabledForDeployment"] is False, vault.urn
    assert props["enabledForTemplateDeployment"] is False, vault.urn
    assert props["enabledForDiskEncryption"] is False, vault.urn
    secret = only(recorder, "azure-native:keyvault:Secret")
    assert plain(secret.inputs)["properties"]["value"] == PASSWORD, secret.urn
    # The password appears in no other resource's inputs.
    for r in recorder.planned:
        if r is not secret:
            assert PASSWORD not in str(plain(r.inputs)), r.urn


def test_role_grants_reach_only_the_vault_and_the_stage_container() -> None:
    recorder = build(_compute)
    vault = only(recorder, "azure-native:keyvault:Vault")
    # The mocks give a resource the id "<name>-id".
    vault_id = f"{vault.name}-id"
    grants = {
        r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]: r
        for r in recorder.planned
        if r.type == "azure-native:authorization:RoleAssignment"
    }
    assert set(grants) == {KEY_VAULT_SECRETS_USER, STORAGE_BLOB_DATA_CONTRIBUTOR}, grants
    for role, grant in grants.items():
        definition = grant.inputs["roleDefinitionId"]
        assert definition.startswith("/subscriptions/"), grant.urn
        assert definition.endswith(f"/providers/Microsoft.Authorization/roleDefinitions/{role}"), (
            grant.urn
        )
        assert grant.inputs["principalType"] == "ServicePrincipal", grant.urn
    vault_grant = grants[KEY_VAULT_SECRETS_USER]
    assert vault_grant.inputs["scope"] == vault_id, vault_grant.urn
    blob_grant = grants[STORAGE_BLOB_DATA_CONTRIBUTOR]
    assert blob_grant.inputs["scope"] == (f"{ACCOUNT_ID}/blobServices/default/containers/data"), (
        blob_grant.urn
    )
