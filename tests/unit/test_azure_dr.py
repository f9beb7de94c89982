"""An Azure DR stage planned from its primary's contract, and the Azure concerns it adds.

The stacks here are test data (a primary and its DR stage), written to a temporary folder:
the primary is planned offline first, its exports become the DR stage's upstream outputs, as
`stageline plan` does. The plan's mocks cannot give Azure's resource IDs, so the primary's
database and storage IDs are set to the shapes Azure exports.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.azure.ingress import client_ranges
from components.azure.naming import AUTONAME_SUFFIX, MAX_STACK_LENGTH
from components.azure.ops import OPERATIONS
from components.azure.settings import parse_settings
from components.dr_ops import DrSides, OperationUnavailable, StackView, operations_of
from components.targets import target_of
from stageline.plan.runner import StagePlan
from stageline.plan.runner import unwrap_secrets as plain
from tests.conftest import plan_folder
from tests.unit.planned import of_type, one

PRIMARY, DR = "shop-az", "shop-az-dr"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
SERVER_ID = (
    f"{SUB}/resourceGroups/shop-az-database-rg1234/providers/Microsoft.DBforPostgreSQL"
    "/flexibleServers/shop-az-database-pg1234"
)
ACCOUNT_ID = (
    f"{SUB}/resourceGroups/shop-az-storage-rg5678/providers/Microsoft.Storage"
    "/storageAccounts/shopazstorage1a2b3c"
)
ZONE = "example.com"

SERVER = "azure-native:dbforpostgresql:Server"
POLICY = "azure-native:storage:ObjectReplicationPolicy"
RULE = "azure-native:network:SecurityRule"
LB = "azure-native:network:LoadBalancer"
PROFILE = "azure-native:trafficmanager:Profile"
RECORD = "azure-native:dns:RecordSet"
VMSS = "azure-native:compute:VirtualMachineScaleSet"
AUTOSCALE = "azure-native:monitor:AutoscaleSetting"


def _stage(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "stageline:stage": PRIMARY,
        # An entry stage (its release pinned here): production stages are promoted into.
        "stageline:tier": "development",
        "stageline:target": "azure",
        "stageline:region": "westeurope",
        "stageline:protectData": True,
        "stageline:release": {"appVersion": "2.0.0", "artifact": "ghcr.io/acme/shop:2.0.0"},
        "stageline:network": {"cidr": "10.60.0.0/16", "zoneCount": 2, "nat": "single"},
        "stageline:compute": {"size": "small", "minCount": 2, "maxCount": 4},
        "stageline:database": {
            "engineVersion": "16",
            "size": "medium",
            "storageGb": 64,
            "highAvailability": True,
            "backupRetentionDays": 30,
            "deletionProtection": True,
        },
        "stageline:storage": {"versioning": True, "retentionDays": 30},
        "stageline:observability": {"logRetentionDays": 90},
    }
    return {**base, **overrides}


def _dr(**dr: Any) -> dict[str, Any]:
    stage = _stage(
        **{
            "stageline:stage": DR,
            "stageline:tier": "production",
            "stageline:region": "northeurope",
            "stageline:promotesFrom": PRIMARY,
            "stageline:routableWith": [PRIMARY],
            "stageline:network": {"cidr": "10.61.0.0/16", "zoneCount": 2, "nat": "single"},
            "stageline:disasterRecovery": {"mode": "pilot-light", "dnsZone": ZONE, **dr},
        }
    )
    del stage["stageline:release"]
    return stage


def _write(folder: Path, name: str, config: dict[str, Any]) -> None:
    (folder / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))


def _primary_outputs(plan: StagePlan) -> dict[str, Any]:
    assert plan.ok, plan.error
    outputs = plain(plan.exports)
    outputs["database"]["resourceId"] = SERVER_ID
    outputs["storage"]["resourceId"] = ACCOUNT_ID
    return outputs


@pytest.fixture(scope="module")
def primary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("azure-dr") / "stacks"
    folder.mkdir()
    _write(folder, PRIMARY, _stage())
    (plan,) = plan_folder(folder, [PRIMARY])
    return folder, _primary_outputs(plan)


@pytest.fixture(scope="module")
def plan_dr(primary: tuple[Path, dict[str, Any]]) -> Callable[..., StagePlan]:
    folder, outputs = primary

    @functools.cache
    def run(role: str = "standby", mode: str = "pilot-light") -> StagePlan:
        _write(folder, DR, _dr(role=role, mode=mode))
        (plan,) = plan_folder(folder, [DR], {PRIMARY: outputs})
        assert plan.ok, plan.error
        return plan

    return run


def test_primary_publishes_its_ingress(primary: tuple[Path, dict[str, Any]]) -> None:
    ingress = primary[1]["ingress"]
    assert ingress["address"].endswith(".cloudapp.azure.com"), ingress
    assert ingress["endpoint"] == f"http://{ingress['address']}/", ingress
    assert ingress["healthPath"] == "/healthz", ingress


def test_replica_reads_the_primarys_server_and_has_no_admin(plan_dr: Callable) -> None:
    server = one(plan_dr(), SERVER)
    assert server.inputs["createMode"] == "Replica", server.urn
    assert server.inputs["sourceServerResourceId"] == SERVER_ID, server.urn
    assert "administratorLogin" not in server.inputs, server.urn
    assert "administratorLoginPassword" not in server.inputs, server.urn
    # No database of its own: a replica receives the primary's.
    assert not of_type(plan_dr(), "azure-native:dbforpostgresql:Database")


def test_replica_runs_in_another_region(
    plan_dr: Callable, primary: tuple[Path, dict[str, Any]]
) -> None:
    plan = plan_dr()
    assert plain(plan.exports)["region"] == "northeurope"
    assert primary[1]["region"] == "westeurope"
    provider = one(plan, "pulumi:providers:azure-native")
    assert provider.inputs["location"] == "northeurope", provider.urn


def test_data_resources_are_protected(plan_dr: Callable) -> None:
    plan = plan_dr()
    for type_ in (SERVER, "azure-native:storage:StorageAccount"):
        data = one(plan, type_)
        assert data.protect and data.retain_on_delete, data.urn
    lock = one(plan, "azure-native:authorization:ManagementLockByScope")
    assert lock.inputs["level"] == "CanNotDelete", lock.urn


def test_pilot_light_runs_no_instances_and_warm_standby_its_minimum(plan_dr: Callable) -> None:
    for mode, count in (("pilot-light", 0), ("warm-standby", 2)):
        plan = plan_dr(mode=mode)
        assert one(plan, VMSS).inputs["sku"]["capacity"] == count, mode
        capacity = one(plan, AUTOSCALE).inputs["profiles"][0]["capacity"]
        assert capacity["minimum"] == str(count), (mode, capacity)


def test_active_renders_a_promoted_server_without_replacing_it(plan_dr: Callable) -> None:
    standby, active = one(plan_dr(), SERVER), one(plan_dr(role="active"), SERVER)
    assert active.inputs["replicationRole"] == "None", active.urn
    assert "replicationRole" not in standby.inputs, standby.urn
    # What only matters at creation stays as it was, so the server is not replaced.
    for key in ("createMode", "sourceServerResourceId"):
        assert active.inputs[key] == standby.inputs[key], key
    assert "administratorLogin" not in active.inputs, active.urn
    # HA comes back with the promotion (a replica cannot have it).
    assert standby.inputs["highAvailability"]["mode"] == "Disabled", standby.urn
    assert active.inputs["highAvailability"]["mode"] == "ZoneRedundant", active.urn
    assert one(plan_dr(role="active"), VMSS).inputs["sku"]["capacity"] == 2


def test_object_replication_from_the_primarys_account(plan_dr: Callable) -> None:
    plan = plan_dr()
    policies = {p.name: p for p in of_type(plan, POLICY)}
    assert len(policies) == 2, list(policies)
    destination = policies[f"{DR}-storage-replication"]
    source = policies[f"{DR}-storage-replication-source"]
    own_account = one(plan, "azure-native:storage:StorageAccount")
    assert destination.inputs["objectReplicationPolicyId"] == "default", destination.urn
    # The destination side is written on the DR stage's own account.
    assert destination.parent == own_account.urn, destination.urn
    for policy in (destination, source):
        assert policy.inputs["sourceAccount"] == ACCOUNT_ID, policy.urn
        assert policy.inputs["destinationAccount"] != ACCOUNT_ID, policy.urn
    # The source side is written on the primary's account, with the IDs Azure assigned.
    assert (source.inputs["resourceGroupName"], source.inputs["accountName"]) == (
        "shop-az-storage-rg5678",
        "shopazstorage1a2b3c",
    )
    assert source.inputs["objectReplicationPolicyId"] not in ("", "default"), source.urn
    assert all(rule.get("ruleId") for rule in source.inputs["rules"]), source.urn
    service = one(plan, "azure-native:storage:BlobServiceProperties")
    assert service.inputs["isVersioningEnabled"] is True, service.urn
    assert service.inputs["changeFeed"]["enabled"] is True, service.urn


def test_ingress_probes_healthz_and_never_admits_the_world(plan_dr: Callable) -> None:
    plan = plan_dr()
    lb = one(plan, LB)
    (probe,) = lb.inputs["probes"]
    port = int(probe["port"])
    assert (probe["protocol"], probe["requestPath"]) == ("Http", "/healthz"), lb.urn
    (rule,) = lb.inputs["loadBalancingRules"]
    assert (rule["frontendPort"], rule["backendPort"]) == (80, port), lb.urn
    assert rule["probe"]["id"].endswith("/probes/healthz"), lb.urn
    profile = plain(one(plan, VMSS).inputs["virtualMachineProfile"])
    (nic,) = profile["networkProfile"]["networkInterfaceConfigurations"]
    pools = nic["ipConfigurations"][0]["loadBalancerBackendAddressPools"]
    assert pools[0]["id"].endswith("/backendAddressPools/app"), pools
    rules = {r.inputs["securityRuleName"]: r.inputs for r in of_type(plan, RULE)}
    clients = rules["app-from-clients"]
    assert sorted(clients["sourceAddressPrefixes"]) == ["10.60.0.0/16", "10.61.0.0/16"]
    for name, rule_inputs in rules.items():
        sources = {
            rule_inputs.get("sourceAddressPrefix"),
            *rule_inputs.get("sourceAddressPrefixes", []),
        }
        if rule_inputs["access"] == "Allow":
            assert not sources & {"*", "0.0.0.0/0", "Internet"}, (name, sources)
            assert rule_inputs["destinationPortRange"] == str(port), name
    assert rules["deny-other-inbound"]["priority"] > max(
        r["priority"] for r in rules.values() if r["access"] == "Allow"
    )


def test_traffic_manager_prefers_the_primary_until_the_replica_is_active(
    plan_dr: Callable, primary: tuple[Path, dict[str, Any]]
) -> None:
    primary_address = primary[1]["ingress"]["address"]
    for role, first in (("standby", "primary"), ("active", "replica")):
        plan = plan_dr(role=role)
        profile = one(plan, PROFILE)
        assert profile.inputs["trafficRoutingMethod"] == "Priority", profile.urn
        monitor = profile.inputs["monitorConfig"]
        assert (monitor["protocol"], monitor["path"]) == ("HTTP", "/healthz"), profile.urn
        endpoints = sorted(profile.inputs["endpoints"], key=lambda e: e["priority"])
        assert [e["priority"] for e in endpoints] == [1, 2], profile.urn
        own = plain(plan.exports)["ingress"]["address"]
        expected = [primary_address, own] if first == "primary" else [own, primary_address]
        assert [e["target"] for e in endpoints] == expected, (role, endpoints)
        assert all(e["type"].endswith("/externalEndpoints") for e in endpoints), profile.urn
        assert profile.inputs["dnsConfig"]["relativeName"].startswith(f"{DR}-routing-")
        record = one(plan, RECORD)
        assert (record.inputs["zoneName"], record.inputs["relativeRecordSetName"]) == (ZONE, "app")
        assert record.inputs["recordType"] == "CNAME", record.urn
        assert record.inputs["cnameRecord"]["cname"].endswith(".trafficmanager.net"), record.urn
        assert record.inputs["resourceGroupName"] == "stageline-dns", record.urn


def test_a_primary_without_azure_ids_is_refused_naming_the_key(
    primary: tuple[Path, dict[str, Any]],
) -> None:
    folder, outputs = primary
    broken = {**outputs, "storage": {**outputs["storage"], "resourceId": "shop-az-account-id"}}
    _write(folder, DR, _dr())
    (plan,) = plan_folder(folder, [DR], {PRIMARY: broken})
    assert not plan.ok
    assert "storage.resourceId" in str(plan.error), plan.error
    assert "Microsoft.Storage/storageAccounts" in str(plan.error), plan.error


def test_operations_refuse_with_the_reason_and_the_manual_command() -> None:
    assert operations_of(target_of("azure").ops) is OPERATIONS
    primary = StackView(PRIMARY, "westeurope", {"database": {"resourceId": SERVER_ID}})
    replica = StackView(DR, "northeurope", {"database": {"resourceId": SERVER_ID + "-dr"}})
    sides = DrSides(primary, replica, ZONE)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("replication", lambda: OPERATIONS.replication(sides)),
        ("promote", lambda: OPERATIONS.promote(sides)),
        ("scale", lambda: OPERATIONS.scale(replica, 2)),
        ("route", lambda: OPERATIONS.route(sides, replica)),
        ("write_marker", lambda: OPERATIONS.write_marker(primary, "m")),
        ("read_marker", lambda: OPERATIONS.read_marker(replica, "m")),
    ]
    for name, call in calls:
        with pytest.raises(OperationUnavailable) as refused:
            call()
        message = str(refused.value)
        assert "no Azure account or emulator" in message, (name, message)
        assert "Instead:" in message, (name, message)
    with pytest.raises(OperationUnavailable, match="replica promote --ids " + SERVER_ID + "-dr"):
        OPERATIONS.promote(sides)


def test_ingress_refuses_to_admit_the_world() -> None:
    assert client_ranges(("10.61.0.0/16", "10.60.0.0/16", "10.61.0.0/16")) == [
        "10.60.0.0/16",
        "10.61.0.0/16",
    ]
    with pytest.raises(ValueError, match=r"0\.0\.0\.0/0.*name the clients' ranges"):
        client_ranges(("10.61.0.0/16", "0.0.0.0/0"))


@pytest.fixture
def app_server() -> Iterator[tuple[str, list[int]]]:
    """A loopback HTTP server answering /healthz like the app; the status is settable."""
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(
                {"status": "ok", "appVersion": "2.0.0", "database": {"reachable": True}}
            ).encode()
            self.send_response(status[0] if self.path == "/healthz" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", status
    finally:
        server.shutdown()
        server.server_close()


def test_ingress_health_asks_healthz_through_the_endpoint(
    app_server: tuple[str, list[int]],
) -> None:
    endpoint, status = app_server
    view = StackView(DR, "northeurope", {"ingress": {"endpoint": endpoint}})
    health = OPERATIONS.ingress_health(view)
    assert health.healthy and health.app_version == "2.0.0", health
    status[0] = 503
    assert not OPERATIONS.ingress_health(view).healthy
    gone = StackView(DR, "northeurope", {"ingress": {"endpoint": "http://127.0.0.1:9/"}})
    down = OPERATIONS.ingress_health(gone)
    assert not down.healthy and "127.0.0.1:9" in down.detail, down


@pytest.mark.parametrize(
    ("value", "ok"), [("shop-dns", True), ("rg.(dns)_1", True), ("bad/group", False), ("x.", False)]
)
def test_dns_zone_resource_group_setting(value: str, ok: bool) -> None:
    settings, issues = parse_settings({"dnsZoneResourceGroup": value})
    if ok:
        assert settings is not None and settings.dns_zone_resource_group == value, issues
        return
    (issue,) = issues
    assert (issue.key, issue.value) == ("azure.dnsZoneResourceGroup", value), issue
    assert "resource group" in issue.problem and issue.fix, issue


def test_the_longest_stack_names_fit_the_dr_names(tmp_path: Path) -> None:
    primary = "az-" + "p" * (MAX_STACK_LENGTH - 3)
    dr = "az-dr-" + "d" * (MAX_STACK_LENGTH - 6)
    folder = tmp_path / "stacks"
    folder.mkdir()
    _write(folder, primary, _stage(**{"stageline:stage": primary}))
    (first,) = plan_folder(folder, [primary])
    outputs = _primary_outputs(first)
    config = _dr()
    config.update({"stageline:stage": dr, "stageline:promotesFrom": primary})
    config["stageline:routableWith"] = [primary]
    _write(folder, dr, config)
    (plan,) = plan_folder(folder, [dr], {primary: outputs})
    assert plan.ok, plan.error
    label = re.compile(r"[a-z][a-z0-9-]{0,61}[a-z0-9]")
    profile = one(plan, PROFILE)
    # Auto-named: the logical name plus 8 characters; Traffic Manager takes at most 63.
    assert len(profile.name) + AUTONAME_SUFFIX <= 63, profile.urn
    relative = profile.inputs["dnsConfig"]["relativeName"]
    assert label.fullmatch(relative), relative
    ip = next(
        r
        for r in of_type(plan, "azure-native:network:PublicIPAddress")
        if "dnsSettings" in r.inputs
    )
    assert label.fullmatch(ip.inputs["dnsSettings"]["domainNameLabel"]), ip.urn
    lb = one(plan, LB)
    assert len(lb.inputs["loadBalancerName"]) <= 80, lb.urn
    for r in of_type(plan, "azure-native:network:NetworkSecurityGroup"):
        assert len(r.name) + AUTONAME_SUFFIX <= 80, r.urn
