"""Security properties of the GCP components, each asserted exactly on the registered inputs.

Each component is built alone under Pulumi mocks, anew per test (so a mutation tool maps a
mutant to every test that builds it); the recording monitor keeps what was sent to the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from components.compute import AppConnection, ComputeArgs
from components.database import DatabaseArgs
from components.gcp.compute import GcpCompute
from components.gcp.database import GcpDatabase
from components.gcp.storage import GcpStorage, GcpStorageArgs
from stageline.plan.mocks import PlanMocks
from stageline.plan.recorder import PlannedResource, RecordingMonitor

STAGE_NETWORK = "10.80.0.0/16"
APP_PORT = 8080
PASSWORD = "s3cr3t-Pa55word-xyz"
BUCKET = "stage-bucket"


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


def test_bucket_prevents_public_access_and_uses_uniform_access() -> None:
    recorder = build(lambda: GcpStorage("s", GcpStorageArgs(location="EU", versioning=True)))
    bucket = only(recorder, "gcp:storage/bucket:Bucket")
    assert bucket.inputs["publicAccessPrevention"] == "enforced", bucket.urn
    assert bucket.inputs["uniformBucketLevelAccess"] is True, bucket.urn


def _db_args(**overrides: Any) -> DatabaseArgs:
    base: dict[str, Any] = dict(
        engine_version="16",
        size="medium",
        storage_gb=20,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.80.128.0/18",),
    )
    return DatabaseArgs(**{**base, **overrides})


def test_cloud_sql_has_no_public_ip_and_accepts_only_tls() -> None:
    recorder = build(lambda: GcpDatabase("d", _db_args()))
    sql = only(recorder, "gcp:sql/databaseInstance:DatabaseInstance")
    ip = sql.inputs["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False, sql.urn
    assert ip["privateNetwork"] == "vpc-1", sql.urn
    assert ip["sslMode"] == "ENCRYPTED_ONLY", sql.urn
    assert not ip.get("authorizedNetworks"), sql.urn


def test_deletion_protection_follows_the_spec() -> None:
    for protect in (True, False):
        recorder = build(lambda p=protect: GcpDatabase("d", _db_args(deletion_protection=p)))
        sql = only(recorder, "gcp:sql/databaseInstance:DatabaseInstance")
        assert sql.inputs["deletionProtection"] is protect, sql.urn
        assert sql.inputs["settings"]["deletionProtectionEnabled"] is protect, sql.urn


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
    return GcpCompute(
        "c",
        ComputeArgs(
            size="small",
            min_count=2,
            max_count=4,
            network_id="vpc-1",
            subnet_ids=["s-1", "s-2"],
            ingress_cidr=STAGE_NETWORK,
            artifact="registry/app:2.0.0",
            app_port=APP_PORT,
            app=_app(),
        ),
    )


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
