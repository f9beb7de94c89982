"""What a real `pulumi up` on Azure must get right beyond the first create: a release reaches
running instances, autoscale and operators' receivers survive it, the app's logs reach the
workspace, and the app gets its database password from Key Vault and access to its own
container only. Components are built under Pulumi mocks and the assertions read the requests
they register (inputs, ignoreChanges, dependencies)."""

from __future__ import annotations

import base64
import inspect
import json
import re
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc
from pulumi_azure_native import monitor as azure_monitor

from components.azure.compute import (
    KEY_VAULT_SECRETS_USER,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    AzureCompute,
)
from components.azure.database import AzureDatabase
from components.azure.observability import AzureObservability
from components.compute import (
    APP_ENV_BUCKET,
    APP_ENV_DATABASE_HOST,
    APP_ENV_DATABASE_NAME,
    APP_ENV_DATABASE_PASSWORD,
    APP_ENV_DATABASE_PORT,
    APP_ENV_DATABASE_USER,
    APP_ENV_FILE,
    AppConnection,
    ComputeArgs,
)
from stageline.plan.mocks import PlanMocks
from stageline.plan.recorder import RecordingMonitor
from stageline.plan.runner import unwrap_secrets as plain
from tests.unit.args import compute_args, database_args, observability_args
from tests.unit.recording import after_registration, program_test

PASSWORD = "s3cr3t-Pa55word-xyz"
ACCOUNT_ID = (
    "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct1"
)
CONTAINER_URL = "https://acct1.blob.core.windows.net/data"
RELEASE_TAG = "stageline-release"


class Recorder(RecordingMonitor):
    """The plan's recording monitor, also keeping each request's ignoreChanges and dependencies."""

    def __init__(self) -> None:
        super().__init__(PlanMocks())
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.requests[request.name] = request
        return super().RegisterResource(request)

    def inputs(self, name: str) -> dict[str, Any]:
        found = [r for r in self.planned if r.name == name]
        assert len(found) == 1, f"expected one {name}, got {[r.urn for r in self.planned]}"
        return found[0].inputs

    def urn(self, name: str) -> str:
        return next(r.urn for r in self.planned if r.name == name)

    def of_type(self, type_: str) -> list[Any]:
        return [r for r in self.planned if r.type == type_]


@pytest.fixture
def recorder() -> Recorder:
    monitor = Recorder()
    pulumi.runtime.set_mocks(
        monitor.mocks, project="stageline", stack="unit", preview=False, monitor=monitor
    )
    return monitor


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


def _args(**overrides: Any) -> ComputeArgs:
    base: dict[str, Any] = dict(
        size="small",
        min_count=2,
        max_count=6,
        network_id="vnet-1",
        subnet_ids=["s-1", "s-2", "s-3"],
        ingress_cidr="10.60.0.0/16",
        artifact="registry/app:2.0.0",
        app=_app(),
    )
    return compute_args(**{**base, **overrides})


def _extensions(vmss_inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    profile = plain(vmss_inputs["virtualMachineProfile"])
    return {e["name"]: e for e in profile["extensionProfile"]["extensions"]}


def _release_script(vmss_inputs: dict[str, Any]) -> str:
    custom = [e for e in _extensions(vmss_inputs).values() if e["type"] == "CustomScript"]
    assert len(custom) == 1, list(_extensions(vmss_inputs))
    return base64.b64decode(custom[0]["settings"]["script"]).decode()


# 1. Autoscale follows compute.targetCpuPercent.


@pytest.mark.parametrize("target", [45, 60, 80])
@program_test
def test_autoscale_scales_out_above_the_target_and_in_well_below_it(
    recorder: Recorder, target: int
):
    group = AzureCompute("c", _args(target_cpu_percent=target))

    def check(_: Any) -> None:
        rules = recorder.inputs("c-autoscale")["profiles"][0]["rules"]
        urn = recorder.urn("c-autoscale")
        by_direction = {r["scaleAction"]["direction"]: r["metricTrigger"] for r in rules}
        out, in_ = by_direction["Increase"], by_direction["Decrease"]
        assert (out["operator"], out["threshold"]) == ("GreaterThan", target), f"{urn}: {out}"
        assert in_["operator"] == "LessThan", f"{urn}: {in_}"
        # After removing one of two instances the others carry twice the load: scaling in
        # below half the target cannot push the average back over it.
        assert in_["threshold"] * 2 <= target, f"{urn}: scale-in at {in_['threshold']}"
        assert in_["threshold"] > 0, urn

    return group.autoscale.id.apply(after_registration(check))


# 2. Autoscale owns the capacity after creation.


@program_test
def test_updates_leave_the_capacity_to_autoscale(recorder: Recorder):
    group = AzureCompute("c", _args(min_count=3))

    def check(_: Any) -> None:
        urn = recorder.urn("c-vmss")
        assert recorder.inputs("c-vmss")["sku"]["capacity"] == 3, urn
        ignored = list(recorder.requests["c-vmss"].ignoreChanges)
        assert "sku.capacity" in ignored, f"{urn}: ignoreChanges {ignored}"

    return group.autoscale.id.apply(after_registration(check))


# 3. A release reaches running instances.


@program_test
def test_a_release_rolls_out_through_an_extension_gated_by_health(recorder: Recorder):
    group = AzureCompute("c", _args())

    def check(_: Any) -> None:
        vmss = recorder.inputs("c-vmss")
        urn = recorder.urn("c-vmss")
        profile = plain(vmss["virtualMachineProfile"])
        # Custom data runs once per instance; a release must not depend on it.
        assert "customData" not in profile["osProfile"], urn
        assert "registry/app:2.0.0" in _release_script(vmss), urn
        policy = vmss["upgradePolicy"]
        assert policy["mode"] == "Rolling", f"{urn}: {policy}"
        health = [e for e in _extensions(vmss).values() if e["type"] == "ApplicationHealthLinux"]
        assert health and health[0]["settings"]["port"] == 8080, urn

    return group.autoscale.id.apply(after_registration(check))


def test_two_releases_differ_in_the_extension_settings_only() -> None:
    """The model change a rolling upgrade applies: the script, and nothing that replaces."""
    recorded = []
    for artifact in ("registry/app:2.0.0", "registry/app:2.1.0"):
        monitor = Recorder()
        pulumi.runtime.set_mocks(
            monitor.mocks, project="stageline", stack="unit", preview=False, monitor=monitor
        )

        @pulumi.runtime.test
        def build(artifact: str = artifact) -> pulumi.Output[Any]:
            return AzureCompute("c", _args(artifact=artifact)).autoscale.id

        build()
        recorded.append(plain(monitor.inputs("c-vmss")))
    old, new = recorded
    assert _release_script(old) != _release_script(new)
    assert "registry/app:2.1.0" in _release_script(new)
    for key in ("sku", "zones", "upgradePolicy", "identity", "orchestrationMode"):
        assert old[key] == new[key], key
    old_profile, new_profile = old["virtualMachineProfile"], new["virtualMachineProfile"]
    for key in ("osProfile", "storageProfile", "networkProfile"):
        assert old_profile[key] == new_profile[key], key


# 4. Operators' receivers survive a release.


def _observability(name: str = "o") -> AzureObservability:
    return AzureObservability(
        name,
        observability_args(
            compute_group="/subscriptions/sub/resourceGroups/rg/providers/"
            "Microsoft.Compute/virtualMachineScaleSets/vmss1",
            database_identifier="db-1",
            tags={"stageline-stage": "unit", RELEASE_TAG: "2.0.0"},
        ),
    )


@program_test
def test_the_action_group_leaves_receivers_to_operators(recorder: Recorder):
    obs = _observability()
    receivers = {
        p
        for p in inspect.signature(azure_monitor.ActionGroup._internal_init).parameters
        if p.endswith("_receivers")
    }
    assert len(receivers) >= 10, receivers

    def check(_: Any) -> None:
        urn = recorder.urn("o-alerts")
        inputs = recorder.inputs("o-alerts")
        ignored = set(recorder.requests["o-alerts"].ignoreChanges)
        camel = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), r) for r in receivers}
        assert camel <= ignored, f"{urn}: not ignored {sorted(camel - ignored)}"
        assert not any(k.endswith("Receivers") for k in inputs), f"{urn}: {inputs}"
        # A release changes the release tag; the group must not be updated for it.
        assert RELEASE_TAG not in inputs["tags"], f"{urn}: {inputs['tags']}"
        assert inputs["tags"]["stageline-stage"] == "unit", urn

    return obs.action_group.id.apply(after_registration(check))


# 5. The app's logs reach the workspace.


@program_test
def test_app_logs_flow_from_the_agent_into_the_workspace(recorder: Recorder):
    group = AzureCompute("c", _args())
    obs = _observability()

    def check(_: Any) -> None:
        vmss = recorder.inputs("c-vmss")
        agent = [e for e in _extensions(vmss).values() if e["type"] == "AzureMonitorLinuxAgent"]
        assert agent and agent[0]["publisher"] == "Microsoft.Azure.Monitor", recorder.urn("c-vmss")
        identity = agent[0]["settings"]["authentication"]["managedIdentity"]
        assert identity["identifier-value"] in vmss["identity"]["userAssignedIdentities"]
        facility = re.search(r"syslog-facility=(\w+)", _release_script(vmss))
        assert facility, "the container does not log to syslog"

        rule = recorder.inputs("o-app-logs")
        urn = recorder.urn("o-app-logs")
        (source,) = rule["dataSources"]["syslog"]
        assert facility.group(1) in source["facilityNames"], f"{urn}: {source}"
        (dest,) = rule["destinations"]["logAnalytics"]
        assert dest["workspaceResourceId"] == "o-logs-id", f"{urn}: {dest}"
        (flow,) = rule["dataFlows"]
        assert flow["destinations"] == [dest["name"]], urn
        assert set(flow["streams"]) == set(source["streams"]), urn

        association = recorder.inputs("o-app-logs-association")
        assert association["dataCollectionRuleId"] == "o-app-logs-id", association
        assert association["resourceUri"].endswith("virtualMachineScaleSets/vmss1"), association

    # Wait for every resource the check reads: the rule and its association register after
    # the action group, so waiting on that alone raced them.
    watched = (
        group.autoscale.id,
        obs.action_group.id,
        obs.log_rule.id,
        obs.log_rule_association.id,
    )
    return pulumi.Output.all(*watched).apply(after_registration(check))


# 6. The app uses its own database and container, the password from Key Vault.


@program_test
def test_the_password_lives_in_key_vault_never_in_the_scale_set(recorder: Recorder):
    group = AzureCompute("c", _args())

    def check(_: Any) -> None:
        vault = recorder.inputs("c-vault")
        vurn = recorder.urn("c-vault")
        props = vault["properties"]
        assert props["enableRbacAuthorization"] is True, vurn
        assert props["enableSoftDelete"] is True and props["enablePurgeProtection"] is True, vurn
        assert props["tenantId"], vurn
        secret = recorder.inputs("c-database-password")
        # The secret marker covers the properties that carry the value.
        assert rpc.is_rpc_secret(secret["properties"]), recorder.urn("c-database-password")
        assert plain(secret["properties"])["value"] == PASSWORD
        assert secret["vaultName"] == vault["vaultName"]

        vmss = recorder.inputs("c-vmss")
        assert PASSWORD not in json.dumps(plain(vmss)), recorder.urn("c-vmss")
        script = _release_script(vmss)
        assert PASSWORD not in script
        # The boot asks IMDS for a Key Vault token as the scale set's identity and reads the
        # secret's current version.
        assert "169.254.169.254/metadata/identity/oauth2/token" in script
        assert f"https://{vault['vaultName']}.vault.azure.net/secrets/" in script
        assert "mi_res_id=c-identity-id" in script
        assert re.search(r"for attempt in \$\(seq 1 \d+\)", script), "no retry"

    return group.autoscale.id.apply(after_registration(check))


@program_test
def test_the_app_environment_is_written_privately_and_passed_by_env_file(recorder: Recorder):
    group = AzureCompute("c", _args())

    def check(_: Any) -> None:
        script = _release_script(recorder.inputs("c-vmss"))
        for line in (
            f"{APP_ENV_DATABASE_HOST}=db1.postgres.database.azure.com",
            f"{APP_ENV_DATABASE_PORT}=5432",
            f"{APP_ENV_DATABASE_NAME}=app",
            f"{APP_ENV_DATABASE_USER}=stageline",
            f"{APP_ENV_BUCKET}={CONTAINER_URL}",
        ):
            assert f"\n{line}\n" in script, line
        assert f"{APP_ENV_DATABASE_PASSWORD}=%s" in script
        assert "umask 077" in script
        assert f'mv -f "$tmp" {APP_ENV_FILE}' in script
        assert f"--env-file {APP_ENV_FILE}" in script

    return group.autoscale.id.apply(after_registration(check))


@program_test
def test_the_identity_gets_exactly_its_vault_and_its_container(recorder: Recorder):
    group = AzureCompute("c", _args())

    def check(_: Any) -> None:
        vmss = recorder.inputs("c-vmss")
        assert vmss["identity"] == {
            "type": "UserAssigned",
            "userAssignedIdentities": ["c-identity-id"],
        }, recorder.urn("c-vmss")
        grants = recorder.of_type("azure-native:authorization:RoleAssignment")
        scopes = {g.inputs["roleDefinitionId"].rsplit("/", 1)[-1]: g for g in grants}
        assert set(scopes) == {KEY_VAULT_SECRETS_USER, STORAGE_BLOB_DATA_CONTRIBUTOR}, [
            g.urn for g in grants
        ]
        for g in grants:
            assert g.inputs["principalId"] == "c-identity-principal", g.urn
            assert g.inputs["roleDefinitionId"].startswith("/subscriptions/"), g.urn
        assert scopes[KEY_VAULT_SECRETS_USER].inputs["scope"] == "c-vault-id"
        assert (
            scopes[STORAGE_BLOB_DATA_CONTRIBUTOR].inputs["scope"]
            == f"{ACCOUNT_ID}/blobServices/default/containers/data"
        )
        # The first boot reads the secret: the grants exist before the instances.
        deps = set(recorder.requests["c-vmss"].dependencies)
        assert {g.urn for g in grants} <= deps, f"{recorder.urn('c-vmss')}: {deps}"

    return group.autoscale.id.apply(after_registration(check))


@program_test
def test_without_an_app_connection_nothing_is_granted(recorder: Recorder):
    group = AzureCompute("c", _args(app=None))

    def check(_: Any) -> None:
        assert not recorder.of_type("azure-native:keyvault:Vault")
        assert not recorder.of_type("azure-native:authorization:RoleAssignment")
        assert "registry/app:2.0.0" in _release_script(recorder.inputs("c-vmss"))

    return group.autoscale.id.apply(after_registration(check))


@program_test
def test_instances_wait_for_egress(recorder: Recorder):
    nat = pulumi.CustomResource("test:index:Nat", "nat")
    group = AzureCompute("c", _args(egress=[nat]))

    def check(_: Any) -> None:
        deps = set(recorder.requests["c-vmss"].dependencies)
        assert recorder.urn("nat") in deps, f"{recorder.urn('c-vmss')}: {deps}"

    return group.autoscale.id.apply(after_registration(check))


# 7. Settings the service would change behind the template's back.


@program_test
def test_a_release_does_not_write_a_new_secret_version(recorder: Recorder):
    group = AzureCompute("c", _args(tags={"stageline-stage": "unit", RELEASE_TAG: "2.0.0"}))

    def check(_: Any) -> None:
        secret = recorder.inputs("c-database-password")
        urn = recorder.urn("c-database-password")
        assert RELEASE_TAG not in secret["tags"], f"{urn}: {secret['tags']}"
        assert secret["tags"]["stageline-stage"] == "unit", urn

    return group.autoscale.id.apply(after_registration(check))


@program_test
def test_the_database_disk_size_stays_the_specs(recorder: Recorder):
    db = AzureDatabase(
        "d",
        database_args(
            engine_version="16",
            size="small",
            storage_gb=100,
            network_id="vnet-1",
            subnet_ids=["s-1"],
            client_cidrs=("10.60.128.0/18",),
            backup_retention_days=7,
        ),
    )

    def check(_: Any) -> None:
        storage = recorder.inputs("d-pg")["storage"]
        # With auto-grow Azure enlarges the disk, and the next update asks it to shrink.
        assert storage["autoGrow"] == "Disabled", f"{recorder.urn('d-pg')}: {storage}"
        assert storage["storageSizeGB"] == 128, storage

    return db.server.id.apply(after_registration(check))
