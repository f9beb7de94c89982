"""A GCP DR stage planned from its primary's contract, and the GCP concerns it adds.

The stacks here are test data (a primary and its DR stage), written to a temporary folder:
the primary is planned offline first and its exports become the DR stage's upstream outputs,
as `stageline plan` does.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.dr_ops import DrSides, OperationUnavailable, StackView, operations_of
from components.gcp.database import master_instance
from components.gcp.ingress import GOOGLE_FRONT_ENDS, client_ranges
from components.gcp.naming import AUTONAME_SUFFIX, MAX_STACK_LENGTH, is_rfc1035
from components.gcp.ops import OPERATIONS
from components.gcp.routing import managed_zone_name, probe_regions
from components.gcp.settings import parse_settings
from components.targets import target_of
from stageline.plan.runner import StagePlan
from stageline.plan.runner import unwrap_secrets as plain
from tests.conftest import plan_folder
from tests.unit.planned import of_type, one

PRIMARY, DR = "shop-gcp", "shop-gcp-dr"
ZONE = "example.com"
INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
BUCKET = "gcp:storage/bucket:Bucket"
JOB = "gcp:storage/transferJob:TransferJob"
RECORD = "gcp:dns/recordSet:RecordSet"
AUTOSCALER = "gcp:compute/regionAutoscaler:RegionAutoscaler"


def _stage(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "stageline:stage": PRIMARY,
        # An entry stage (its release pinned here): production stages are promoted into.
        "stageline:tier": "development",
        "stageline:target": "gcp",
        "stageline:region": "europe-west1",
        "stageline:protectData": True,
        "stageline:release": {"appVersion": "2.0.0", "artifact": "ghcr.io/acme/shop:2.0.0"},
        "stageline:network": {"cidr": "10.80.0.0/16", "zoneCount": 2, "nat": "single"},
        "stageline:compute": {"size": "small", "minCount": 2, "maxCount": 4},
        "stageline:database": {
            "engineVersion": "16",
            "size": "medium",
            "storageGb": 50,
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
            "stageline:region": "europe-west4",
            "stageline:promotesFrom": PRIMARY,
            "stageline:routableWith": [PRIMARY],
            "stageline:network": {"cidr": "10.81.0.0/16", "zoneCount": 2, "nat": "single"},
            "stageline:disasterRecovery": {"mode": "pilot-light", "dnsZone": ZONE, **dr},
        }
    )
    del stage["stageline:release"]
    return stage


def _write(folder: Path, name: str, config: dict[str, Any]) -> None:
    (folder / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))


@pytest.fixture(scope="module")
def primary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("gcp-dr") / "stacks"
    folder.mkdir()
    _write(folder, PRIMARY, _stage())
    (plan,) = plan_folder(folder, [PRIMARY])
    assert plan.ok, plan.error
    return folder, plain(plan.exports)


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


def test_replica_follows_the_primarys_instance_with_no_users(
    plan_dr: Callable, primary: tuple[Path, dict[str, Any]]
) -> None:
    plan = plan_dr()
    source_id = primary[1]["database"]["resourceId"]
    instance = one(plan, INSTANCE)
    assert instance.inputs["masterInstanceName"] == source_id.rsplit("/", 1)[-1], instance.urn
    assert instance.inputs["instanceType"] == "READ_REPLICA_INSTANCE", instance.urn
    replica = plain(instance.inputs["replicaConfiguration"])
    assert replica == {"failoverTarget": False}, instance.urn
    assert instance.inputs["databaseVersion"] == "POSTGRES_16", instance.urn
    # A read replica keeps no backups; its users and database come from the primary.
    assert instance.inputs["settings"]["backupConfiguration"] == {"enabled": False}
    assert not of_type(plan, "gcp:sql/user:User")
    assert not of_type(plan, "gcp:sql/database:Database")


def test_master_instance_is_the_name_in_the_primarys_self_link() -> None:
    link = "https://sqladmin.googleapis.com/v1/projects/acme-prod/instances/shop-pg-1a2b"
    assert master_instance(link) == "shop-pg-1a2b"
    with pytest.raises(ValueError, match=r"database\.resourceId.*self link"):
        master_instance("shop-pg-1a2b-id")


def test_replica_runs_in_another_region(
    plan_dr: Callable, primary: tuple[Path, dict[str, Any]]
) -> None:
    plan = plan_dr()
    assert plain(plan.exports)["region"] == "europe-west4" != primary[1]["region"]
    providers = [p for p in of_type(plan, "pulumi:providers:gcp") if p.inputs.get("region")]
    assert [p.inputs["region"] for p in providers] == ["europe-west4"], providers


def test_data_resources_are_protected(plan_dr: Callable) -> None:
    plan = plan_dr()
    for type_ in (INSTANCE, BUCKET):
        data = one(plan, type_)
        assert data.protect and data.retain_on_delete, data.urn
    instance = one(plan, INSTANCE)
    assert instance.inputs["deletionProtection"] is True, instance.urn
    bucket = one(plan, BUCKET)
    assert bucket.inputs["versioning"]["enabled"] is True, bucket.urn
    assert bucket.inputs["forceDestroy"] is False, bucket.urn


def test_pilot_light_runs_no_instances_and_warm_standby_its_minimum(plan_dr: Callable) -> None:
    for mode, count in (("pilot-light", 0), ("warm-standby", 2)):
        policy = one(plan_dr(mode=mode), AUTOSCALER).inputs["autoscalingPolicy"]
        assert policy["minReplicas"] == count, (mode, policy)


def test_active_renders_a_standalone_instance(plan_dr: Callable) -> None:
    instance = one(plan_dr(role="active"), INSTANCE)
    assert "masterInstanceName" not in instance.inputs, instance.urn
    assert "replicaConfiguration" not in instance.inputs, instance.urn
    # The provider promotes in place on exactly this change, instead of replacing.
    assert instance.inputs["instanceType"] == "CLOUD_SQL_INSTANCE", instance.urn
    assert instance.inputs["settings"]["backupConfiguration"]["enabled"] is True
    assert instance.protect, instance.urn
    assert one(plan_dr(role="active"), AUTOSCALER).inputs["autoscalingPolicy"]["minReplicas"] == 2


def test_bucket_replication_from_the_primarys_bucket(
    plan_dr: Callable, primary: tuple[Path, dict[str, Any]]
) -> None:
    plan = plan_dr()
    job = one(plan, JOB)
    spec = job.inputs["replicationSpec"]
    own = plain(plan.exports)["storage"]["bucket"]
    assert spec["gcsDataSource"]["bucketName"] == primary[1]["storage"]["bucket"], job.urn
    assert spec["gcsDataSink"]["bucketName"] == own != primary[1]["storage"]["bucket"]
    assert spec["transferOptions"]["deleteObjectsUniqueInSink"] is False, job.urn
    grants = {
        (g.inputs["bucket"], g.inputs["role"])
        for g in of_type(plan, "gcp:storage/bucketIAMMember:BucketIAMMember")
        if "storage-transfer-service" in g.inputs["member"]
    }
    assert grants == {
        (primary[1]["storage"]["bucket"], "roles/storage.legacyBucketOwner"),
        (own, "roles/storage.legacyBucketWriter"),
    }


def test_ingress_checks_healthz_and_admits_only_its_clients(plan_dr: Callable) -> None:
    plan = plan_dr()
    check = next(
        c for c in of_type(plan, "gcp:compute/healthCheck:HealthCheck") if "ingress" in c.name
    )
    port = int(check.inputs["httpHealthCheck"]["port"])
    assert check.inputs["httpHealthCheck"]["requestPath"] == "/healthz", check.urn
    group = one(plan, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager")
    assert group.inputs["namedPorts"] == [{"name": "app", "port": port}], group.urn
    backend = one(plan, "gcp:compute/backendService:BackendService")
    assert backend.inputs["portName"] == "app", backend.urn
    assert backend.inputs["backends"][0]["group"].endswith(group.name), backend.urn
    rule = one(plan, "gcp:compute/globalForwardingRule:GlobalForwardingRule")
    assert rule.inputs["portRange"] == "80", rule.urn
    firewall = next(
        f for f in of_type(plan, "gcp:compute/firewall:Firewall") if f.name.endswith("-lb")
    )
    assert set(GOOGLE_FRONT_ENDS) <= set(firewall.inputs["sourceRanges"]), firewall.urn
    for fw in of_type(plan, "gcp:compute/firewall:Firewall"):
        assert "0.0.0.0/0" not in fw.inputs.get("sourceRanges", []), fw.urn
    armor = one(plan, "gcp:compute/securityPolicy:SecurityPolicy")
    rules = sorted(armor.inputs["rules"], key=lambda r: r["priority"])
    allowed = {
        r
        for rule in rules
        if rule["action"] == "allow"
        for r in rule["match"]["config"]["srcIpRanges"]
    }
    assert allowed == {"10.80.0.0/16", "10.81.0.0/16", *GOOGLE_FRONT_ENDS}, rules
    assert rules[-1]["action"].startswith("deny"), rules[-1]
    ingress = plain(plan.exports)["ingress"]
    assert ingress["endpoint"] == f"http://{ingress['address']}/", ingress


def test_cloud_dns_fails_over_to_the_fallback(
    plan_dr: Callable, primary: tuple[Path, dict[str, Any]]
) -> None:
    primary_address = primary[1]["ingress"]["address"]
    for role in ("standby", "active"):
        plan = plan_dr(role=role)
        own = plain(plan.exports)["ingress"]["address"]
        record = one(plan, RECORD)
        assert record.inputs["name"] == f"app.{ZONE}.", record.urn
        assert record.inputs["managedZone"] == "example-com", record.urn
        assert record.inputs["type"] == "A", record.urn
        policy = record.inputs["routingPolicy"]
        failover = policy["primaryBackup"]
        preferred, fallback = (
            (primary_address, own) if role == "standby" else (own, primary_address)
        )
        fallback_region = "europe-west4" if role == "standby" else "europe-west1"
        assert failover["primary"]["externalEndpoints"] == [preferred], (role, failover)
        (backup,) = failover["backupGeos"]
        assert backup["location"] == fallback_region, (role, backup)
        assert backup["healthCheckedTargets"]["externalEndpoints"] == [fallback], backup
        check = next(
            c for c in of_type(plan, "gcp:compute/healthCheck:HealthCheck") if "routing" in c.name
        )
        assert policy["healthCheck"] == f"{check.name}-id", policy
        assert check.inputs["httpHealthCheck"]["requestPath"] == "/healthz", check.urn
        assert len(set(check.inputs["sourceRegions"])) == 3, check.urn


def test_routing_names() -> None:
    assert managed_zone_name("example.internal") == "example-internal"
    assert probe_regions("us-central1", "europe-west4") == [
        "us-central1",
        "europe-west4",
        "europe-west1",
    ]


def test_ingress_refuses_to_admit_the_world() -> None:
    with pytest.raises(ValueError, match=r"0\.0\.0\.0/0.*name the clients' ranges"):
        client_ranges(("10.81.0.0/16", "0.0.0.0/0"))


def test_operations_refuse_with_the_reason_and_the_manual_command() -> None:
    assert operations_of(target_of("gcp").ops) is OPERATIONS
    link = "https://sqladmin.googleapis.com/v1/projects/p/instances/"
    primary = StackView(PRIMARY, "europe-west1", {"database": {"resourceId": link + "pg"}})
    replica = StackView(DR, "europe-west4", {"database": {"resourceId": link + "pg-dr"}})
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
        assert "no Google Cloud project or emulator" in message, (name, message)
        assert "Instead:" in message, (name, message)
    with pytest.raises(OperationUnavailable, match="promote-replica pg-dr,"):
        OPERATIONS.promote(sides)


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
    view = StackView(DR, "europe-west4", {"ingress": {"endpoint": endpoint}})
    health = OPERATIONS.ingress_health(view)
    assert health.healthy and health.app_version == "2.0.0", health
    status[0] = 503
    assert not OPERATIONS.ingress_health(view).healthy


@pytest.mark.parametrize(("value", "ok"), [("example-com", True), ("Example.com", False)])
def test_dns_managed_zone_setting(value: str, ok: bool) -> None:
    settings, issues = parse_settings({"dnsManagedZone": value})
    if ok:
        assert settings is not None and settings.dns_managed_zone == value, issues
        return
    (issue,) = issues
    assert (issue.key, issue.value) == ("gcp.dnsManagedZone", value), issue
    assert "managed zone" in issue.problem and issue.fix, issue


# Types the ingress and routing add, which pulumi-gcp auto-names with "-" and 7 characters.
DR_AUTONAMED = {
    f"gcp:compute/{t}"
    for t in (
        "firewall:Firewall",
        "healthCheck:HealthCheck",
        "securityPolicy:SecurityPolicy",
        "backendService:BackendService",
        "uRLMap:URLMap",
        "targetHttpProxy:TargetHttpProxy",
        "globalForwardingRule:GlobalForwardingRule",
    )
}


def test_the_longest_stack_names_fit_the_dr_names(tmp_path: Path) -> None:
    primary = "gc-" + "p" * (MAX_STACK_LENGTH - 3)
    dr = "gc-dr-" + "d" * (MAX_STACK_LENGTH - 6)
    folder = tmp_path / "stacks"
    folder.mkdir()
    _write(folder, primary, _stage(**{"stageline:stage": primary}))
    (first,) = plan_folder(folder, [primary])
    assert first.ok, first.error
    config = _dr()
    config.update({"stageline:stage": dr, "stageline:promotesFrom": primary})
    config["stageline:routableWith"] = [primary]
    _write(folder, dr, config)
    (plan,) = plan_folder(folder, [dr], {primary: plain(first.exports)})
    assert plan.ok, plan.error
    autonamed = [r for r in plan.resources if r.type in DR_AUTONAMED]
    assert {r.type for r in autonamed} == DR_AUTONAMED
    for r in autonamed:
        physical = f"{r.name.lower()}-{'0' * (AUTONAME_SUFFIX - 1)}"
        assert is_rfc1035(physical), f"{r.urn}: {physical} ({len(physical)} characters)"
