"""GCP compute, network, observability and provider wiring under Pulumi mocks: the autoscaling
target, the boot disk, the application's secret and grants, the NAT ordering, the log bucket
and sink, and the APIs a fresh project needs. A monitor records each registration's
dependencies and provider, which the plan recorder does not keep."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from components.compute import APP_ENV_DATABASE_HOST, APP_ENV_FILE, AppConnection, ComputeArgs
from components.gcp import kit
from components.gcp.apis import APIS
from components.gcp.compute import (
    BUCKET_ROLE,
    MAX_SURGE,
    SECRET_ROLE,
    GcpCompute,
    service_account_id,
)
from components.gcp.database import GcpDatabase
from components.gcp.machines import boot_disk_type, boot_image
from components.gcp.network import GcpNetwork
from components.gcp.observability import GcpObservability
from components.gcp.regions import REGIONS
from stageline.plan.mocks import PlanMocks
from tests.unit.args import compute_args, database_args, network_args, observability_args
from tests.unit.recording import after_registration, program_test

NETWORK_ZONES = ("europe-west1-b", "europe-west1-c", "europe-west1-d")
PASSWORD = "pw-Never-In-Metadata-7#"
BUCKET = "shop-storage-bucket"


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    dependencies: list[str]
    provider: str
    secret_inputs: set[str] = field(default_factory=set)


class WiringMonitor(MockMonitor):
    """Records what each registration depends on and which provider it goes through."""

    def __init__(self) -> None:
        super().__init__(PlanMocks())
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        self.registered.append(
            Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=inputs,
                dependencies=list(request.dependencies),
                provider=request.provider,
            )
        )
        return response

    def of_type(self, suffix: str) -> list[Registered]:
        return [r for r in self.registered if r.type.endswith(suffix)]

    def one(self, suffix: str) -> Registered:
        found = self.of_type(suffix)
        assert len(found) == 1, f"expected one {suffix}: {[r.urn for r in found]}"
        return found[0]


@pytest.fixture
def monitor() -> WiringMonitor:
    m = WiringMonitor()
    pulumi.runtime.set_mocks(m.mocks, project="stageline", stack="unit", preview=False, monitor=m)
    return m


def _app() -> AppConnection:
    return AppConnection(
        database_host="10.0.0.3",
        database_port=5432,
        database_name="app",
        database_user="stageline",
        database_password=pulumi.Output.secret(PASSWORD),
        database_id="projects/p/instances/shop-pg",
        bucket_name=BUCKET,
        bucket_id=f"https://www.googleapis.com/storage/v1/b/{BUCKET}",
    )


def _compute_args(**overrides: Any) -> ComputeArgs:
    base: dict[str, Any] = dict(
        size="small",
        min_count=2,
        max_count=4,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        ingress_cidr="10.80.0.0/16",
        artifact="registry/app:2.0.0",
    )
    return compute_args(**{**base, **overrides})


def _plain(value: Any) -> str:
    return json.dumps(value, default=str)


# 1. The autoscaler follows compute.targetCpuPercent.


@pytest.mark.parametrize("percent", [45, 75])
@program_test
def test_autoscaler_tracks_the_specs_cpu_target(monitor: WiringMonitor, percent: int):
    group = GcpCompute("c", _compute_args(target_cpu_percent=percent))

    def check(args: list) -> None:
        urn, policy = args
        assert policy["cpu_utilization"]["target"] == pytest.approx(percent / 100), urn

    return pulumi.Output.all(group.autoscaler.urn, group.autoscaler.autoscaling_policy).apply(
        after_registration(check)
    )


# 2. The boot disk (and image) follow the machine family.


@pytest.mark.parametrize(
    ("machine", "disk"),
    [
        ("e2-small", "pd-balanced"),
        ("n2-standard-4", "pd-balanced"),
        ("c3-standard-8", "pd-balanced"),
        ("n4-standard-4", "hyperdisk-balanced"),
        ("c4-standard-8", "hyperdisk-balanced"),
        ("c4a-standard-4", "hyperdisk-balanced"),
        ("x4-megamem-960-metal", "hyperdisk-balanced"),
        ("a3-ultragpu-8g", "hyperdisk-balanced"),
        ("a3-highgpu-8g", "pd-balanced"),
    ],
)
def test_boot_disk_type_follows_the_machine_family(machine: str, disk: str) -> None:
    assert boot_disk_type(machine) == disk, machine


@pytest.mark.parametrize(
    ("sku", "disk", "arch"),
    [(None, "pd-balanced", "cos-stable"), ("n4-standard-4", "hyperdisk-balanced", "cos-stable")],
)
@program_test
def test_template_boot_disk_follows_the_machine_type(
    monitor: WiringMonitor, sku: str | None, disk: str, arch: str
):
    group = GcpCompute("c", _compute_args(sku=sku))

    def check(args: list) -> None:
        urn, disks = args
        assert disks[0]["disk_type"] == disk, f"{urn}: {disks}"
        assert disks[0]["source_image"].endswith(f"/family/{arch}"), f"{urn}: {disks}"

    return pulumi.Output.all(group.template.urn, group.template.disks).apply(
        after_registration(check)
    )


def test_arm_families_boot_an_arm_image() -> None:
    assert boot_image("c4a-standard-4").endswith("/cos-arm64-stable")
    assert boot_image("t2a-standard-4").endswith("/cos-arm64-stable")
    assert boot_image("n4-standard-4").endswith("/cos-stable")


# 4. The application's database and bucket.


@program_test
def test_password_goes_to_secret_manager_and_never_into_metadata(monitor: WiringMonitor):
    group = GcpCompute("c", _compute_args(app=_app()))

    def check(args: list) -> None:
        version = monitor.one("secretmanager/secretVersion:SecretVersion")
        data = version.inputs["secretData"]
        # Sent to the engine as a secret, so state and diffs keep it encrypted.
        assert data.get(rpc._special_sig_key) == rpc._special_secret_sig, version.urn
        assert data["value"] == PASSWORD, version.urn
        leaking = [
            r.urn for r in monitor.registered if r is not version and PASSWORD in _plain(r.inputs)
        ]
        assert not leaking, f"the password is in the inputs of {leaking}"
        template = monitor.one("compute/instanceTemplate:InstanceTemplate")
        script = template.inputs["metadataStartupScript"]
        assert PASSWORD not in script and PASSWORD not in _plain(template.inputs["metadata"])
        # What the script reads instead: the version, pinned, so a new password rolls out.
        assert version.urn.endswith("::c-db-password-version")
        assert "secretmanager.googleapis.com/v1/$SECRET_VERSION:access" in script
        assert "SECRET_VERSION=c-db-password-version" in script, script
        assert f"--env-file {APP_ENV_FILE}" in script, script
        assert f"{APP_ENV_DATABASE_HOST}=10.0.0.3" in script, script
        assert f"BUCKET_NAME={BUCKET}" in script, script

    return pulumi.Output.all(group.urn, group.template.id).apply(after_registration(check))


@program_test
def test_instances_get_a_dedicated_least_privilege_identity(monitor: WiringMonitor):
    group = GcpCompute("c", _compute_args(app=_app()))

    def check(args: list) -> None:
        account = monitor.one("serviceaccount/account:Account")
        member = f"serviceAccount:{account.inputs['accountId']}"
        template = monitor.one("compute/instanceTemplate:InstanceTemplate")
        sa = template.inputs["serviceAccount"]
        # The email the mocks compute for the account (not the default compute account).
        assert sa["email"].startswith("c-sa"), f"{template.urn}: {sa}"
        # Secret Manager and Cloud Storage refuse a token scoped to logging alone.
        assert sa["scopes"] == ["https://www.googleapis.com/auth/cloud-platform"], template.urn

        secret = monitor.one("secretmanager/secret:Secret")
        access = monitor.one("secretmanager/secretIamMember:SecretIamMember")
        assert access.inputs["role"] == SECRET_ROLE, access.urn
        assert access.inputs["secretId"] == "c-db-password-id", access.urn  # this secret only
        assert access.inputs["member"].startswith("serviceAccount:c-sa"), access.urn
        assert secret.inputs["secretId"] == "c-db-password", secret.urn

        bucket = monitor.one("storage/bucketIAMMember:BucketIAMMember")
        assert (bucket.inputs["bucket"], bucket.inputs["role"]) == (BUCKET, BUCKET_ROLE)
        project_roles = sorted(r.inputs["role"] for r in monitor.of_type("iAMMember:IAMMember"))
        assert project_roles == ["roles/logging.logWriter", "roles/monitoring.metricWriter"], (
            "project-wide grants must not reach secrets or buckets: " + str(project_roles)
        )
        assert member.startswith("serviceAccount:c-")

    return pulumi.Output.all(group.urn, group.group.id).apply(after_registration(check))


@program_test
def test_instances_wait_for_their_grants_and_secret(monitor: WiringMonitor):
    group = GcpCompute("c", _compute_args(app=_app()))

    def check(args: list) -> None:
        manager = monitor.one("compute/regionInstanceGroupManager:RegionInstanceGroupManager")
        needed = [
            monitor.one("secretmanager/secretVersion:SecretVersion").urn,
            monitor.one("secretmanager/secretIamMember:SecretIamMember").urn,
            monitor.one("storage/bucketIAMMember:BucketIAMMember").urn,
        ]
        missing = [u for u in needed if u not in manager.dependencies]
        assert not missing, f"{manager.urn} does not wait for {missing}"

    return pulumi.Output.all(group.urn, group.group.id).apply(after_registration(check))


@pytest.mark.parametrize(
    "name",
    ["c", "sandbox-gcp-compute", "a-thirty-six-character-stack-name-xx-compute", "9lives-compute"],
)
def test_service_account_ids_are_valid(name: str) -> None:
    account = service_account_id(name)
    assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])", account), account
    assert 6 <= len(account) <= 30, account


def test_long_names_sharing_a_prefix_get_distinct_accounts() -> None:
    prefix = "a-thirty-six-character-stack-name"
    assert service_account_id(f"{prefix}-a-compute") != service_account_id(f"{prefix}-b-compute")


# 5. The instances wait for Cloud NAT.


@program_test
def test_instance_group_waits_for_cloud_nat(monitor: WiringMonitor):
    net = GcpNetwork("n", network_args(cidr="10.80.0.0/16", zones=NETWORK_ZONES, nat="single"))
    assert {type(r).__name__ for r in net.egress} == {"Router", "RouterNat"}
    group = GcpCompute("c", _compute_args(egress=net.egress))

    def check(args: list) -> None:
        manager = monitor.one("compute/regionInstanceGroupManager:RegionInstanceGroupManager")
        nat = monitor.one("compute/routerNat:RouterNat")
        router = monitor.one("compute/router:Router")
        assert nat.urn in manager.dependencies, f"{manager.urn}: {manager.dependencies}"
        assert router.urn in manager.dependencies, f"{manager.urn}: {manager.dependencies}"

    return pulumi.Output.all(group.urn, group.group.id, net.network_id).apply(
        after_registration(check)
    )


def test_no_nat_means_no_egress_to_wait_for(monitor: WiringMonitor) -> None:
    net = GcpNetwork("n", network_args(cidr="10.80.0.0/16", zones=NETWORK_ZONES, nat="none"))
    assert net.egress == ()


def test_surge_covers_every_zone_a_regional_group_spans() -> None:
    """A regional group spans all of its region's zones, and GCP refuses a fixed surge that is
    neither 0 nor at least that many (us-central1 has 4)."""
    most = max(len(zones) for zones in REGIONS.zones_by_region.values())
    assert most <= MAX_SURGE


# 3. The log bucket and its sink.


@program_test
def test_log_bucket_id_is_unique_per_creation(monitor: WiringMonitor):
    obs = GcpObservability(
        "o", observability_args(compute_group="c", database_identifier="p:shop-pg")
    )

    def check(args: list) -> None:
        bucket = monitor.one("logging/projectBucketConfig:ProjectBucketConfig")
        suffix = monitor.one("random:index/randomString:RandomString")
        # A random suffix, generated once and kept: no keepers that an update could change.
        assert not suffix.inputs.get("keepers"), suffix.urn
        assert bucket.inputs["bucketId"] == "o-logs-a1b2c3", bucket.urn  # a1b2c3: the mock's
        assert re.fullmatch(r"[a-z0-9_-]{1,100}", bucket.inputs["bucketId"]), bucket.urn

    return pulumi.Output.all(obs.urn, obs.log_bucket.id, obs.sink.id).apply(
        after_registration(check)
    )


@program_test
def test_sink_selects_what_the_gcplogs_driver_writes(monitor: WiringMonitor):
    obs = GcpObservability(
        "o",
        observability_args(compute_group="shop-compute", database_identifier="proj-1:shop-pg"),
    )

    def check(args: list) -> None:
        sink = monitor.one("logging/projectSink:ProjectSink")
        query = sink.inputs["filter"]
        # docker's gcplogs driver: log "gcplogs-docker-driver", resource gce_instance (labels
        # instance_id and zone), the instance's name in jsonPayload.instance.name.
        assert 'logName="projects/proj-1/logs/gcplogs-docker-driver"' in query, sink.urn
        assert 'resource.type="gce_instance"' in query, sink.urn
        assert "compute.googleapis.com/resource_name" not in query, sink.urn
        match = re.search(r'jsonPayload\.instance\.name=~"([^"]+)"', query)
        assert match, f"{sink.urn}: {query}"
        pattern = re.compile(match[1])
        assert pattern.search("shop-compute-x1z9"), query
        assert not pattern.search("shop-compute-canary-x1z9"), query
        assert not pattern.search("other-compute-x1z9"), query

    return pulumi.Output.all(obs.urn, obs.sink.id).apply(after_registration(check))


# 6. A fresh project: the APIs are enabled before anything calls them.


@program_test
def test_stage_provider_waits_for_every_api(monitor: WiringMonitor):
    provider = kit.provider("st-provider", "europe-west1", pulumi.ResourceOptions())
    net = GcpNetwork(
        "n",
        network_args(cidr="10.80.0.0/16", zones=NETWORK_ZONES),
        pulumi.ResourceOptions(providers=[provider]),
    )

    def check(args: list) -> None:
        services = monitor.of_type("projects/service:Service")
        assert sorted(s.inputs["service"] for s in services) == sorted(APIS)
        for s in services:
            assert s.inputs["disableOnDestroy"] is False, s.urn
        stage = next(r for r in monitor.registered if r.name == "st-provider")
        missing = [s.urn for s in services if s.urn not in stage.dependencies]
        assert not missing, f"{stage.urn} does not wait for {missing}"
        # The services go through a provider of their own (the stage's waits for them).
        assert all(not s.provider.startswith(f"{stage.urn}::") for s in services)
        gcp_resources = [r for r in monitor.registered if r.type.startswith("gcp:compute/")]
        assert gcp_resources
        astray = [r.urn for r in gcp_resources if not r.provider.startswith(f"{stage.urn}::")]
        assert not astray, f"not created through the stage's provider: {astray}"

    return pulumi.Output.all(provider.urn, net.network_id).apply(after_registration(check))


# The API each resource module of the template calls.
API_OF_MODULE = {
    "compute": "compute.googleapis.com",
    "servicenetworking": "servicenetworking.googleapis.com",
    "sql": "sqladmin.googleapis.com",
    "storage": "storage.googleapis.com",
    "logging": "logging.googleapis.com",
    "monitoring": "monitoring.googleapis.com",
    "serviceaccount": "iam.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
}


def test_every_api_the_gcp_plan_calls_is_enabled(repo_plans) -> None:  # type: ignore[no-untyped-def]
    plan = repo_plans["sandbox-gcp"]
    modules = {
        r.type.split(":")[1].split("/")[0]
        for r in plan.resources
        if r.custom and r.type.startswith("gcp:") and r.type.split(":")[1] != "projects/service"
    }
    # Project IAM goes through Cloud Resource Manager, which must already be on (see APIS).
    modules.discard("projects")
    unknown = modules - API_OF_MODULE.keys()
    assert not unknown, f"resource modules with no known API: {unknown}"
    assert {API_OF_MODULE[m] for m in modules} <= set(APIS), modules
    enabled = {r.inputs["service"] for r in plan.resources if r.type.endswith("service:Service")}
    assert enabled == set(APIS), enabled


# 7. Review: a destroy that PostgreSQL would refuse.


@program_test
def test_database_and_role_go_with_the_instance(monitor: WiringMonitor):
    db = GcpDatabase(
        "d",
        database_args(
            engine_version="16",
            size="small",
            storage_gb=20,
            network_id="vpc-1",
            subnet_ids=["s-1"],
            client_cidrs=("10.80.128.0/18",),
        ),
    )

    def check(_: str) -> None:
        # PostgreSQL will not drop a role owning the app's tables, nor a database in use.
        for suffix in ("sql/user:User", "sql/database:Database"):
            r = monitor.one(suffix)
            assert r.inputs.get("deletionPolicy") == "ABANDON", r.urn

    return db.urn.apply(after_registration(check))
