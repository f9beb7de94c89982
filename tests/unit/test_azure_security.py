"""Security properties of the Azure components, each asserted exactly on the registered inputs.

Each component is built alone under Pulumi mocks (built anew per test, so a mutation tool maps a
mutant to every test that builds it); the recording monitor keeps what was sent to the engine.
The expected values are Azure's documented settings, written out here.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.azure.compute import AzureCompute
from components.azure.database import AzureDatabase
from components.azure.storage import AzureStorage
from components.compute import AppConnection, ComputeArgs
from components.database import DatabaseArgs
from components.storage import StorageArgs
from stageline.plan.runner import unwrap_secrets as plain
from tests.unit import args as flat
from tests.unit.recording import PlanRecorder, build, only

STAGE_NETWORK = "10.60.0.0/16"
APP_PORT = 8080
PASSWORD = "s3cr3t-Pa55word-xyz"
ACCOUNT_ID = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a1"
CONTAINER_URL = "https://a1.blob.core.windows.net/data"
# Azure's built-in role IDs (learn.microsoft.com, "Azure built-in roles").
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


# The common args, built in one place each: where they move (e.g. into a spec section) only
# these helpers change.
def storage_args(**fields: Any) -> StorageArgs:
    return flat.storage_args(**fields)


def database_args(**overrides: Any) -> DatabaseArgs:
    base: dict[str, Any] = dict(
        engine_version="16",
        size="small",
        storage_gb=20,
        network_id="vnet-1",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.60.128.0/18",),
        backup_retention_days=7,
    )
    return flat.database_args(**{**base, **overrides})


def compute_args(**overrides: Any) -> ComputeArgs:
    base: dict[str, Any] = dict(
        size="small",
        min_count=2,
        max_count=4,
        network_id="vnet-1",
        subnet_ids=["s-1", "s-2"],
        ingress_cidr=STAGE_NETWORK,
        artifact="registry/app:2.0.0",
        app_port=APP_PORT,
    )
    return flat.compute_args(**{**base, **overrides})


# --- storage -----------------------------------------------------------------------------------

ACCOUNT = "azure-native:storage:StorageAccount"
CONTAINER = "azure-native:storage:BlobContainer"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
STORAGE_GROUP = "azure-native:resources:ResourceGroup"


def _storage(**fields: Any) -> PlanRecorder:
    return build(lambda: AzureStorage("s", storage_args(**fields)))


@pytest.mark.parametrize("protect", [True, False], ids=["protected", "ephemeral"])
def test_storage_account_is_https_only_tls12_private_and_double_encrypted(
    protect: bool,
) -> None:
    recorder = _storage(versioning=True, retention_days=5, protect=protect)
    account = only(recorder, ACCOUNT)
    inputs = plain(account.inputs)
    assert inputs["enableHttpsTrafficOnly"] is True, account.urn
    assert inputs["minimumTlsVersion"] == "TLS1_2", account.urn
    assert inputs["allowBlobPublicAccess"] is False, account.urn
    assert inputs["encryption"] == {
        "keySource": "Microsoft.Storage",
        "requireInfrastructureEncryption": True,
        "services": {
            "blob": {"enabled": True, "keyType": "Account"},
            "file": {"enabled": True, "keyType": "Account"},
        },
    }, account.urn
    container = only(recorder, CONTAINER)
    assert container.inputs["publicAccess"] == "None", container.urn


@pytest.mark.parametrize("protect", [True, False], ids=["protected", "ephemeral"])
def test_storage_protection_follows_the_spec(protect: bool) -> None:
    recorder = _storage(protect=protect)
    # Deleting the group deletes the account in it: the group is protected with the data.
    for type_ in (STORAGE_GROUP, ACCOUNT, CONTAINER):
        resource = only(recorder, type_)
        assert resource.protect is protect, resource.urn
        assert resource.retain_on_delete is protect, resource.urn
    group = only(recorder, STORAGE_GROUP)
    account = only(recorder, ACCOUNT)
    assert account.parent.endswith("stageline:storage:AzureStorage::s"), account.urn
    assert account.inputs["resourceGroupName"] == group.name, account.urn
    container = only(recorder, CONTAINER)
    assert container.parent == account.urn, container.urn
    assert container.inputs["accountName"] == account.name, container.urn
    assert container.inputs["containerName"] == "data", container.urn


@pytest.mark.parametrize("versioning", [True, False])
def test_blob_versioning_follows_the_spec_and_deletes_are_recoverable(versioning: bool) -> None:
    recorder = _storage(versioning=versioning)
    service = only(recorder, BLOB_SERVICE)
    account = only(recorder, ACCOUNT)
    group = only(recorder, STORAGE_GROUP)
    assert service.inputs["isVersioningEnabled"] is versioning, service.urn
    assert service.parent == account.urn, service.urn
    # Blob versioning and lifecycle rules need a general-purpose v2 account; zone-redundant
    # storage keeps the data through the loss of a zone.
    assert account.inputs["kind"] == "StorageV2", account.urn
    assert account.inputs["sku"] == {"name": "Standard_ZRS"}, account.urn
    # Soft delete: a deleted blob or container can be restored for 7 days.
    assert service.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": 7}, service.urn
    assert service.inputs["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 7}, (
        service.urn
    )
    assert service.inputs["blobServicesName"] == "default", service.urn
    assert service.inputs["accountName"] == account.name, service.urn
    assert service.inputs["resourceGroupName"] == group.name, service.urn


def test_noncurrent_versions_expire_after_the_retention() -> None:
    recorder = _storage(retention_days=12)
    policy = only(recorder, "azure-native:storage:ManagementPolicy")
    account = only(recorder, ACCOUNT)
    assert policy.inputs["managementPolicyName"] == "default", policy.urn
    assert policy.inputs["accountName"] == account.name, policy.urn
    assert policy.inputs["resourceGroupName"] == only(recorder, STORAGE_GROUP).name, policy.urn
    assert policy.parent == account.urn, policy.urn
    # The rule acts on the versions the blob service keeps: it waits for that service.
    service = only(recorder, BLOB_SERVICE)
    assert service.urn in recorder.requests[policy.name].dependencies, policy.urn
    assert policy.inputs["policy"] == {
        "rules": [
            {
                "name": "expire-noncurrent",
                "enabled": True,
                "type": "Lifecycle",
                "definition": {
                    "filters": {"blobTypes": ["blockBlob"]},
                    "actions": {
                        "version": {"delete": {"daysAfterCreationGreaterThan": 12}},
                    },
                },
            }
        ]
    }, policy.urn


def test_storage_hands_on_its_account_and_container() -> None:
    seen: list[dict[str, Any]] = []

    def make() -> pulumi.Output[None]:
        store = AzureStorage("s", storage_args())
        return pulumi.Output.all(id=store.resource_id, name=store.bucket_name).apply(seen.append)

    recorder = build(make)
    account = only(recorder, ACCOUNT)
    container = only(recorder, CONTAINER)
    # The compute grant is scoped by the account's id; the mocks give each resource
    # "<name>-id", the account a blob endpoint from its name, and echo the container's name.
    assert seen == [
        {
            "id": f"{account.name}-id",
            "name": (
                f"https://{account.name.replace('-', '')}.blob.core.windows.net/{container.name}"
            ),
        }
    ], account.urn


# --- database ----------------------------------------------------------------------------------

SERVER = "azure-native:dbforpostgresql:Server"


def test_flexible_server_has_no_public_access_and_requires_tls() -> None:
    recorder = build(lambda: AzureDatabase("d", database_args()))
    server = only(recorder, SERVER)
    zone = only(recorder, "azure-native:privatedns:PrivateZone")
    assert plain(server.inputs)["network"] == {
        "publicNetworkAccess": "Disabled",
        "delegatedSubnetResourceId": "vnet-1/subnets/database",
        # The mocks give a resource the id "<name>-id".
        "privateDnsZoneArmResourceId": f"{zone.name}-id",
    }, server.urn
    configs = [
        r for r in recorder.planned if r.type == "azure-native:dbforpostgresql:Configuration"
    ]
    tls = [c for c in configs if c.inputs["configurationName"] == "require_secure_transport"]
    assert len(tls) == 1, [c.urn for c in configs]
    assert tls[0].inputs["value"] == "on", tls[0].urn
    assert tls[0].inputs["source"] == "user-override", tls[0].urn
    assert tls[0].inputs["serverName"] == server.name, tls[0].urn
    assert tls[0].inputs["resourceGroupName"] == server.inputs["resourceGroupName"], tls[0].urn
    assert tls[0].parent == server.urn, tls[0].urn


def test_the_server_resolves_through_a_private_zone_linked_to_the_stage_network() -> None:
    recorder = build(lambda: AzureDatabase("d", database_args()))
    zone = only(recorder, "azure-native:privatedns:PrivateZone")
    link = only(recorder, "azure-native:privatedns:VirtualNetworkLink")
    group = only(recorder, "azure-native:resources:ResourceGroup")
    # Private access takes a zone under Azure's suffix, in the "Global" location.
    assert zone.inputs["privateZoneName"].endswith(".private.postgres.database.azure.com"), zone.urn
    assert zone.inputs["location"] == "Global", zone.urn
    assert zone.inputs["resourceGroupName"] == group.name, zone.urn
    assert link.inputs["privateZoneName"] == zone.name, link.urn
    assert link.inputs["virtualNetwork"] == {"id": "vnet-1"}, link.urn
    assert link.inputs["registrationEnabled"] is False, link.urn
    assert link.inputs["location"] == "Global", link.urn
    assert link.inputs["resourceGroupName"] == group.name, link.urn
    assert zone.parent.endswith("stageline:database:AzureDatabase::d"), zone.urn
    assert link.parent == zone.urn, link.urn
    # The server is created only once its zone is linked: Azure checks the link on create.
    server = only(recorder, SERVER)
    assert link.urn in recorder.requests[server.name].dependencies, server.urn


def test_the_server_takes_the_password_as_a_secret_and_encrypts_at_rest() -> None:
    seen: list[dict[str, Any]] = []

    def make() -> pulumi.Output[None]:
        db = AzureDatabase("d", database_args(password=PASSWORD))
        secret = pulumi.Output.from_input(db.password.is_secret())
        return pulumi.Output.all(password=db.password, secret=secret).apply(seen.append)

    recorder = build(make)
    server = only(recorder, SERVER)
    assert server.inputs["administratorLogin"] == "stageline", server.urn
    assert server.inputs["version"] == "16", server.urn
    assert rpc.is_rpc_secret(server.inputs["administratorLoginPassword"]), server.urn
    assert plain(server.inputs["administratorLoginPassword"]) == PASSWORD, server.urn
    assert server.inputs["authConfig"] == {
        "passwordAuth": "Enabled",
        "activeDirectoryAuth": "Disabled",
    }, server.urn
    assert server.inputs["dataEncryption"] == {"type": "SystemManaged"}, server.urn
    # The component hands the password on to compute as a secret too.
    assert seen == [{"password": PASSWORD, "secret": True}], server.urn
    for r in recorder.planned:
        if r is not server:
            assert PASSWORD not in str(plain(r.inputs)), r.urn


@pytest.mark.parametrize("days", [1, 7, 35])
def test_backups_keep_the_retention_in_the_region(days: int) -> None:
    recorder = build(lambda: AzureDatabase("d", database_args(backup_retention_days=days)))
    server = only(recorder, SERVER)
    assert server.inputs["backup"] == {
        "backupRetentionDays": days,
        "geoRedundantBackup": "Disabled",
    }, server.urn


@pytest.mark.parametrize(("ha", "mode"), [(True, "ZoneRedundant"), (False, "Disabled")])
def test_high_availability_follows_the_spec(ha: bool, mode: str) -> None:
    recorder = build(lambda: AzureDatabase("d", database_args(high_availability=ha)))
    server = only(recorder, SERVER)
    assert server.inputs["highAvailability"] == {"mode": mode}, server.urn


@pytest.mark.parametrize("protect", [True, False])
def test_database_protection_follows_the_spec(protect: bool) -> None:
    recorder = build(
        lambda: AzureDatabase("d", database_args(protect=protect, deletion_protection=protect))
    )
    # Deleting the group deletes the server in it: the group is protected with the data.
    group = only(recorder, "azure-native:resources:ResourceGroup")
    assert group.protect is protect and group.retain_on_delete is protect, group.urn
    assert group.parent.endswith("stageline:database:AzureDatabase::d"), group.urn
    server = only(recorder, SERVER)
    assert server.protect is protect and server.retain_on_delete is protect, server.urn
    assert server.parent.endswith("stageline:database:AzureDatabase::d"), server.urn
    assert server.inputs["resourceGroupName"] == group.name, server.urn
    database = only(recorder, "azure-native:dbforpostgresql:Database")
    assert database.protect is protect and database.retain_on_delete is protect, database.urn
    assert database.parent == server.urn, database.urn
    assert database.inputs["serverName"] == server.name, database.urn
    assert database.inputs["databaseName"] == "app", database.urn
    locks = [r for r in recorder.planned if r.type.endswith("ManagementLockByScope")]
    assert [lock.inputs["level"] for lock in locks] == (["CanNotDelete"] if protect else [])
    for lock in locks:
        # On the server itself, not on something beside it.
        assert lock.inputs["scope"] == f"{server.name}-id", lock.urn
        assert lock.parent == server.urn, lock.urn


def test_the_database_hands_on_its_private_endpoint() -> None:
    seen: list[dict[str, Any]] = []

    def make() -> pulumi.Output[None]:
        db = AzureDatabase("d", database_args())
        return pulumi.Output.all(
            endpoint=db.endpoint,
            port=db.port,
            id=db.resource_id,
            identifier=db.identifier,
            db_name=db.db_name,
            engine_version=db.engine_version,
        ).apply(seen.append)

    server = only(build(make), SERVER)
    # The mocks answer "<name>-id" and the server's name under Azure's PostgreSQL domain; a
    # client resolves that name through the private zone.
    assert seen == [
        {
            "endpoint": f"{server.name}.postgres.database.azure.com",
            "port": 5432,
            "id": f"{server.name}-id",
            "identifier": f"{server.name}-id",
            "db_name": "app",
            "engine_version": "16",
        }
    ], server.urn


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
    return AzureCompute("c", compute_args(app=_app()))


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
