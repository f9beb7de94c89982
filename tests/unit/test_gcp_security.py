"""Security properties of the GCP components, each asserted exactly on the registered inputs.

Each component is built alone under Pulumi mocks, anew per test (so a mutation tool maps a
mutant to every test that builds it); the recording monitor keeps what was sent to the engine.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp
import pytest
from pulumi.runtime import rpc

from components.compute import AppConnection, ComputeArgs
from components.database import DatabaseArgs
from components.gcp.compute import GcpCompute
from components.gcp.database import GcpDatabase
from components.gcp.storage import GcpStorage
from components.storage import StorageArgs
from stageline.plan.recorder import PlannedResource
from stageline.plan.runner import unwrap_secrets as plain
from tests.unit import args as flat
from tests.unit.recording import build, only

STAGE_NETWORK = "10.80.0.0/16"
APP_PORT = 8080
PASSWORD = "s3cr3t-Pa55word-xyz"
BUCKET = "stage-bucket"
REGION = "europe-west1"


# The common args, built in one place each: where they move (e.g. into a spec section) only
# these helpers change.
def storage_args(**fields: Any) -> StorageArgs:
    return flat.storage_args(**fields)


def database_args(**overrides: Any) -> DatabaseArgs:
    base: dict[str, Any] = dict(
        engine_version="16",
        size="medium",
        storage_gb=20,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.80.128.0/18",),
    )
    return flat.database_args(**{**base, **overrides})


def compute_args(**overrides: Any) -> ComputeArgs:
    base: dict[str, Any] = dict(
        size="small",
        min_count=2,
        max_count=4,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        ingress_cidr=STAGE_NETWORK,
        artifact="registry/app:2.0.0",
        app_port=APP_PORT,
    )
    return flat.compute_args(**{**base, **overrides})


# --- storage -----------------------------------------------------------------------------------


def _bucket(**fields: Any) -> PlannedResource:
    """The bucket of a GcpStorage on a stage provider (which gives the bucket its location)."""

    def make() -> GcpStorage:
        provider = gcp.Provider("gcp", project="p", region=REGION)
        return GcpStorage("s", storage_args(**fields), pulumi.ResourceOptions(provider=provider))

    return only(build(make), "gcp:storage/bucket:Bucket")


def test_bucket_prevents_public_access_and_uses_uniform_access() -> None:
    bucket = _bucket(versioning=True)
    assert bucket.inputs["publicAccessPrevention"] == "enforced", bucket.urn
    assert bucket.inputs["uniformBucketLevelAccess"] is True, bucket.urn
    # In the stage's own region, from its provider.
    assert bucket.inputs["location"] == REGION, bucket.urn


@pytest.mark.parametrize("versioning", [True, False])
def test_bucket_versioning_follows_the_spec(versioning: bool) -> None:
    bucket = _bucket(versioning=versioning)
    assert bucket.inputs["versioning"] == {"enabled": versioning}, bucket.urn


def test_noncurrent_versions_expire_after_the_retention_and_uploads_are_aborted() -> None:
    bucket = _bucket(retention_days=12)
    assert bucket.inputs["lifecycleRules"] == [
        {
            "action": {"type": "Delete"},
            # Only versions that are no longer live, counted from when they stopped being live.
            "condition": {"daysSinceNoncurrentTime": 12, "withState": "ARCHIVED"},
        },
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
    ], bucket.urn


@pytest.mark.parametrize("protect", [True, False], ids=["protected", "ephemeral"])
def test_bucket_protection_follows_the_spec(protect: bool) -> None:
    bucket = _bucket(protect=protect)
    # Under the component, so it takes the stage's provider (project, credentials) from it.
    assert bucket.parent.endswith("stageline:storage:GcpStorage::s"), bucket.urn
    assert bucket.protect is protect, bucket.urn
    assert bucket.retain_on_delete is protect, bucket.urn
    # A protected bucket is never emptied by a destroy; an ephemeral one must be destroyable.
    assert bucket.inputs["forceDestroy"] is (not protect), bucket.urn


def test_storage_hands_on_its_own_bucket() -> None:
    seen: list[dict[str, Any]] = []

    def make() -> pulumi.Output[None]:
        provider = gcp.Provider("gcp", project="p", region=REGION)
        store = GcpStorage("s", storage_args(), pulumi.ResourceOptions(provider=provider))
        return pulumi.Output.all(id=store.resource_id, name=store.bucket_name).apply(seen.append)

    bucket = only(build(make), "gcp:storage/bucket:Bucket")
    # The compute grant and the app's environment name the bucket by these; the mocks give a
    # bucket its logical name and a self link from it.
    assert seen == [
        {
            "id": f"https://www.googleapis.com/storage/v1/b/{bucket.name}",
            "name": bucket.name,
        }
    ], bucket.urn


# --- database ----------------------------------------------------------------------------------

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"


def test_cloud_sql_has_no_public_ip_and_accepts_only_tls() -> None:
    recorder = build(lambda: GcpDatabase("d", database_args()))
    sql = only(recorder, INSTANCE)
    ip = sql.inputs["settings"]["ipConfiguration"]
    assert ip == {
        "ipv4Enabled": False,
        "privateNetwork": "vpc-1",
        "sslMode": "ENCRYPTED_ONLY",
    }, sql.urn


@pytest.mark.parametrize("protect", [True, False])
def test_deletion_protection_follows_the_spec(protect: bool) -> None:
    recorder = build(lambda: GcpDatabase("d", database_args(deletion_protection=protect)))
    sql = only(recorder, INSTANCE)
    assert sql.inputs["deletionProtection"] is protect, sql.urn
    assert sql.inputs["settings"]["deletionProtectionEnabled"] is protect, sql.urn


@pytest.mark.parametrize("protect", [True, False], ids=["protected", "ephemeral"])
def test_instance_and_database_protection_follow_the_spec(protect: bool) -> None:
    recorder = build(lambda: GcpDatabase("d", database_args(protect=protect)))
    for type_ in (INSTANCE, "gcp:sql/database:Database"):
        resource = only(recorder, type_)
        assert resource.protect is protect, resource.urn
        assert resource.retain_on_delete is protect, resource.urn
    instance = only(recorder, INSTANCE)
    assert instance.parent.endswith("stageline:database:GcpDatabase::d"), instance.urn
    # Database and user are dropped with the instance, never on their own: PostgreSQL refuses to
    # drop a database with connections or a role that owns objects.
    database = only(recorder, "gcp:sql/database:Database")
    assert database.inputs["deletionPolicy"] == "ABANDON", database.urn
    assert database.inputs["name"] == "app", database.urn
    user = only(recorder, "gcp:sql/user:User")
    assert user.inputs["deletionPolicy"] == "ABANDON", user.urn
    for child in (database, user):
        assert child.parent == instance.urn, child.urn
        assert child.inputs["instance"] == instance.name, child.urn


@pytest.mark.parametrize(("ha", "availability"), [(True, "REGIONAL"), (False, "ZONAL")])
def test_high_availability_follows_the_spec(ha: bool, availability: str) -> None:
    recorder = build(lambda: GcpDatabase("d", database_args(high_availability=ha)))
    sql = only(recorder, INSTANCE)
    assert sql.inputs["settings"]["availabilityType"] == availability, sql.urn


def test_backups_are_off_only_with_zero_retention() -> None:
    recorder = build(lambda: GcpDatabase("d", database_args(backup_retention_days=0)))
    sql = only(recorder, INSTANCE)
    assert sql.inputs["settings"]["backupConfiguration"] == {"enabled": False}, sql.urn


@pytest.mark.parametrize(
    ("days", "log_days"),
    # Cloud SQL keeps transaction logs for point-in-time recovery at most 7 days.
    [(1, 1), (7, 7), (8, 7), (14, 7)],
)
def test_backups_keep_the_retention_with_point_in_time_recovery(days: int, log_days: int) -> None:
    recorder = build(lambda: GcpDatabase("d", database_args(backup_retention_days=days)))
    sql = only(recorder, INSTANCE)
    assert sql.inputs["settings"]["backupConfiguration"] == {
        "enabled": True,
        "startTime": "03:00",
        "pointInTimeRecoveryEnabled": True,
        "transactionLogRetentionDays": log_days,
        "backupRetentionSettings": {"retainedBackups": days, "retentionUnit": "COUNT"},
    }, sql.urn


def test_the_password_is_the_given_one_and_stays_a_secret() -> None:
    seen: list[dict[str, Any]] = []

    def make() -> pulumi.Output[None]:
        db = GcpDatabase("d", database_args(password=PASSWORD))
        secret = pulumi.Output.from_input(db.password.is_secret())
        return pulumi.Output.all(password=db.password, secret=secret).apply(seen.append)

    recorder = build(make)
    user = only(recorder, "gcp:sql/user:User")
    assert user.inputs["name"] == "stageline", user.urn
    assert rpc.is_rpc_secret(user.inputs["password"]), user.urn
    assert plain(user.inputs["password"]) == PASSWORD, user.urn
    # The component hands the password on to compute as a secret too.
    assert seen == [{"password": PASSWORD, "secret": True}], user.urn
    for r in recorder.planned:
        if r is not user:
            assert PASSWORD not in str(plain(r.inputs)), r.urn


def test_the_database_hands_on_its_private_endpoint() -> None:
    seen: list[dict[str, Any]] = []

    def make() -> pulumi.Output[None]:
        db = GcpDatabase("d", database_args())
        return pulumi.Output.all(
            endpoint=db.endpoint,
            port=db.port,
            id=db.resource_id,
            identifier=db.identifier,
            db_name=db.db_name,
            engine_version=db.engine_version,
        ).apply(seen.append)

    sql = only(build(make), INSTANCE)
    # The mocks answer the instance's private IP, project and self link (PlanMocks).
    assert seen == [
        {
            "endpoint": "10.0.0.3",
            "port": 5432,
            "id": f"https://sqladmin.googleapis.com/v1/projects/mock-project/instances/{sql.name}",
            "identifier": f"mock-project:{sql.name}",
            "db_name": "app",
            "engine_version": "16",
        }
    ], sql.urn


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


def _compute() -> GcpCompute:
    return GcpCompute("c", compute_args(app=_app()))


def test_firewall_admits_only_the_app_port_from_the_stage_network() -> None:
    recorder = build(_compute)
    rule = only(recorder, "gcp:compute/firewall:Firewall")
    assert rule.inputs["direction"] == "INGRESS", rule.urn
    assert rule.inputs["sourceRanges"] == [STAGE_NETWORK], rule.urn
    assert rule.inputs["allows"] == [{"protocol": "tcp", "ports": [str(APP_PORT)]}], rule.urn
    template = only(recorder, "gcp:compute/instanceTemplate:InstanceTemplate")
    # The rule reaches only the app instances, by their tag.
    assert rule.inputs["targetTags"] == template.inputs["tags"] != [], rule.urn


def test_instances_have_no_external_ip_shielded_vm_and_no_project_ssh_keys() -> None:
    recorder = build(_compute)
    template = only(recorder, "gcp:compute/instanceTemplate:InstanceTemplate")
    (nic,) = template.inputs["networkInterfaces"]
    assert not nic.get("accessConfigs"), template.urn
    assert not nic.get("ipv6AccessConfigs"), template.urn
    assert template.inputs["metadata"]["block-project-ssh-keys"] == "TRUE", template.urn
    shielded = template.inputs["shieldedInstanceConfig"]
    assert shielded == {
        "enableSecureBoot": True,
        "enableVtpm": True,
        "enableIntegrityMonitoring": True,
    }, template.urn
    assert PASSWORD not in str(template.inputs), template.urn


def test_the_secret_accessor_grant_is_scoped_to_the_one_secret() -> None:
    recorder = build(_compute)
    secret = only(recorder, "gcp:secretmanager/secret:Secret")
    grant = only(recorder, "gcp:secretmanager/secretIamMember:SecretIamMember")
    assert grant.inputs["role"] == "roles/secretmanager.secretAccessor", grant.urn
    # The mocks give a resource the id "<name>-id".
    assert grant.inputs["secretId"] == f"{secret.name}-id", grant.urn
    assert grant.inputs["member"].startswith("serviceAccount:"), grant.urn
    # No project-wide Secret Manager role.
    project_roles = [
        r.inputs["role"] for r in recorder.planned if r.type == "gcp:projects/iAMMember:IAMMember"
    ]
    assert not [r for r in project_roles if "secretmanager" in r], project_roles
    bucket = only(recorder, "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert bucket.inputs["bucket"] == BUCKET, bucket.urn
