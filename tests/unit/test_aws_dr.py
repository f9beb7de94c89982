"""The AWS DR replica under Pulumi mocks: its database, storage and compute, built from the
primary's contract; component by component, and as `stageline plan prod-dr` plans it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws.database import AwsDatabase
from components.aws.storage import AwsStorage
from components.dr import ReplicaPlan, ReplicaSource
from components.errors import ConfigError
from stageline.plan.runner import StagePlan
from tests.conftest import REPO_STACKS, edit_stack_file, plan_folder
from tests.unit.args import database_args, storage_args
from tests.unit.planned import of_type, one
from tests.unit.recording import RequestMonitor, after_registration, program_test, record

ACCOUNT = "111122223333"
PRIMARY_DB = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:prod-database-pg-abc1234"
PRIMARY_BUCKET = "prod-storage-bucket-abc1234"
PRIMARY_BUCKET_ARN = f"arn:aws:s3:::{PRIMARY_BUCKET}"
RDS = "aws:rds/instance:Instance"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def _source() -> ReplicaSource:
    return ReplicaSource(
        stage="prod",
        region="us-east-1",
        site="us-east-1",
        network_id="vpc-prod",
        cidr="10.50.0.0/16",
        database_id=PRIMARY_DB,
        database_endpoint="prod-database-pg-abc1234.x.us-east-1.rds.amazonaws.com",
        engine_version="16",
        storage_id=PRIMARY_BUCKET_ARN,
        bucket=PRIMARY_BUCKET,
        compute_min_count=3,
        ingress_endpoint="http://internal-prod-ingress-alb-1.us-east-1.elb.amazonaws.com/",
        ingress_address="internal-prod-ingress-alb-1.us-east-1.elb.amazonaws.com",
        replication_user="stageline",
        replication_password="primary-password",
    )


def _plan(role: str = "standby") -> ReplicaPlan:
    return ReplicaPlan(_source(), "pilot-light", role, "example.internal")  # type: ignore[arg-type]


def _real_arns(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    if args.typ == "aws:iam/role:Role":
        return {"arn": f"arn:aws:iam::{ACCOUNT}:role/{args.name}"}
    if args.typ == "aws:kms/key:Key":
        return {"arn": f"arn:aws:kms:us-west-2:{ACCOUNT}:key/{args.name}"}
    if args.typ == "aws:s3/bucket:Bucket":
        return {"arn": f"arn:aws:s3:::{args.name}"}
    return {}


@pytest.fixture
def monitor() -> RequestMonitor:
    return record(_real_arns)


def _in_dr_region(name: str) -> pulumi.ResourceOptions:
    """How the environment builds a concern: under the stage's own regional provider."""
    provider = aws.Provider(f"{name}-provider", region="us-west-2")
    return pulumi.ResourceOptions(providers=[provider])


def _db(plan: ReplicaPlan, name: str = "d") -> AwsDatabase:
    args = database_args(
        engine_version="16",
        size="large",
        storage_gb=200,
        high_availability=True,
        backup_retention_days=30,
        deletion_protection=True,
        network_id="vpc-dr",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.51.64.0/18",),
        protect=True,
        replica=plan,
    )
    return AwsDatabase(name, args, _in_dr_region(name))


def _provider_urn(monitor: RequestMonitor, name: str) -> str:
    ref = str(monitor.requests[name].provider)
    return ref.rsplit("::", 1)[0]


def test_standby_database_is_a_cross_region_replica_of_the_primary_arn(
    monitor: RequestMonitor,
):
    @pulumi.runtime.test
    def build():
        db = _db(_plan())
        return db.instance.id

    build()
    mocks = monitor.mocks
    req = monitor.requests["d-pg"]
    urn = monitor.urn_of("d-pg")
    inputs = next(r for r in mocks.created if r.name == "d-pg").inputs  # type: ignore[attr-defined]
    assert inputs["replicateSourceDb"] == PRIMARY_DB, f"{urn}: {inputs.get('replicateSourceDb')}"
    # RDS copies the primary's name, user and password; the provider replaces an instance
    # whose username or db_name changes, so none is set on the replica.
    for key in ("username", "password", "dbName"):
        assert key not in inputs, f"{urn}: a replica sets {key}"
    assert inputs["kmsKeyId"] == f"arn:aws:kms:us-west-2:{ACCOUNT}:key/d-key", urn
    assert inputs["storageEncrypted"] is True, urn
    assert inputs["engineVersion"] == "16", urn
    assert inputs["multiAz"] is True and inputs["backupRetentionPeriod"] == 30, urn
    assert inputs["deletionProtection"] is True, urn
    assert req.protect and req.retainOnDelete, f"{urn}: the replica is not protected"
    key = monitor.requests["d-key"]
    assert key.protect and key.retainOnDelete, "the replica's key is not protected"
    # The key belongs to the DR region: the concern's own (regional) provider.
    dr_provider = monitor.urn_of("d-provider")
    assert _provider_urn(monitor, "d-key") == dr_provider, key.provider
    assert _provider_urn(monitor, "d-pg") == dr_provider, req.provider


def test_active_database_renders_standalone_without_replacing_anything(
    monitor: RequestMonitor,
):
    @pulumi.runtime.test
    def build():
        return _db(_plan("active")).instance.id

    build()
    created = monitor.mocks.created  # type: ignore[attr-defined]
    inputs = next(r for r in created if r.name == "d-pg").inputs
    urn = monitor.urn_of("d-pg")
    assert "replicateSourceDb" not in inputs, f"{urn}: still a replica once active"
    # Same logical name (so the same identifier), same key, no user or name: nothing that
    # makes the provider replace the promoted instance.
    assert inputs["kmsKeyId"] == f"arn:aws:kms:us-west-2:{ACCOUNT}:key/d-key", urn
    for key in ("username", "password", "dbName"):
        assert key not in inputs, f"{urn}: the promoted instance sets {key}"


@program_test
def test_replica_database_publishes_the_primary_password(monitor: RequestMonitor):
    db = _db(_plan())

    def check(args: list) -> None:
        urn, password, secret = args
        assert password == "primary-password", f"{urn}: the app would use {password!r}"
        assert secret, f"{urn}: the password is not a secret"
        randoms = monitor.mocks.of_type("randomPassword:RandomPassword")  # type: ignore[attr-defined]
        assert not randoms, f"{urn}: a replica generated a password of its own"

    return pulumi.Output.all(db.urn, db.password, pulumi.Output.is_secret(db.password)).apply(
        after_registration(check)
    )


def _storage(versioning: bool = True) -> AwsStorage:
    args = storage_args(versioning=versioning, retention_days=365, protect=True, replica=_plan())
    return AwsStorage("s", args, _in_dr_region("s"))


def test_replication_rule_lives_on_the_primary_bucket_in_the_primary_region(
    monitor: RequestMonitor,
):
    @pulumi.runtime.test
    def build():
        return _storage().bucket.arn

    build()
    created = {r.name: r for r in monitor.mocks.created}  # type: ignore[attr-defined]
    rule = created["s-replication-rule"]
    urn = monitor.urn_of("s-replication-rule")
    assert rule.inputs["bucket"] == PRIMARY_BUCKET, f"{urn}: on {rule.inputs['bucket']}"
    # Through a provider of the primary's region, parented in the DR stack's storage.
    provider = created["s-primary-region"]
    assert provider.inputs["region"] == "us-east-1", provider.inputs
    assert _provider_urn(monitor, "s-replication-rule") == monitor.urn_of("s-primary-region")
    assert monitor.requests["s-primary-region"].parent == monitor.urn_of("s"), "provider parent"
    # After versioning: S3 refuses a rule towards an unversioned bucket.
    deps = set(monitor.requests["s-replication-rule"].dependencies)
    assert monitor.urn_of("s-versioning") in deps, f"{urn}: not after the DR bucket's versioning"
    (only,) = rule.inputs["rules"]
    dest = only["destination"]
    assert dest["bucket"] == "arn:aws:s3:::s-bucket", f"{urn}: into {dest['bucket']}"
    key_arn = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/s-key"
    assert dest["encryptionConfiguration"]["replicaKmsKeyId"] == key_arn, urn
    assert only["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled", urn
    assert rule.inputs["role"] == f"arn:aws:iam::{ACCOUNT}:role/s-replication", urn
    # The DR bucket and its key are data: protected.
    for name in ("s-bucket", "s-key"):
        req = monitor.requests[name]
        assert req.protect and req.retainOnDelete, f"{name} is not protected"


def _statements(policy: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(policy)["Statement"]}


def test_replication_role_is_least_privilege(monitor: RequestMonitor):
    @pulumi.runtime.test
    def build():
        return _storage().bucket.arn

    build()
    created = {r.name: r for r in monitor.mocks.created}  # type: ignore[attr-defined]
    trust = json.loads(created["s-replication"].inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}, trust
    st = _statements(created["s-replication-access"].inputs["policy"])
    assert set(st["SourceBucket"]["Action"]) == {
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
    }
    assert st["SourceBucket"]["Resource"] == PRIMARY_BUCKET_ARN
    assert all(a.startswith("s3:GetObjectVersion") for a in st["SourceObjects"]["Action"])
    assert st["SourceObjects"]["Resource"] == f"{PRIMARY_BUCKET_ARN}/*"
    assert set(st["DestinationObjects"]["Action"]) == {
        "s3:ReplicateObject",
        "s3:ReplicateDelete",
        "s3:ReplicateTags",
    }
    assert st["DestinationObjects"]["Resource"] == "arn:aws:s3:::s-bucket/*"
    via = st["DecryptSource"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == "s3.us-east-1.amazonaws.com", via
    assert st["EncryptReplicas"]["Resource"] == f"arn:aws:kms:us-west-2:{ACCOUNT}:key/s-key"
    actions = [
        a
        for s in st.values()
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert not [a for a in actions if a.endswith("*") or a == "s3:*"], actions


def test_dr_bucket_without_versioning_is_refused_before_any_resource(
    monitor: RequestMonitor,
):
    with pytest.raises(ConfigError) as caught:
        _storage(versioning=False)
    assert "storage.versioning" in str(caught.value) and "true" in str(caught.value)
    assert not [r for r in monitor.mocks.created if r.typ.startswith("aws:s3")]  # type: ignore[attr-defined]


# The whole DR stage, as `stageline plan prod-dr` plans it from prod's planned outputs.


def _plans(folder: Path) -> dict[str, StagePlan]:
    plans = {p.stack: p for p in plan_folder(folder, ["prod-dr"])}
    failed = {name: repr(p.error) for name, p in plans.items() if not p.ok}
    assert not failed, failed
    return plans


@pytest.fixture(scope="module")
def dr_plans() -> dict[str, StagePlan]:
    return _plans(REPO_STACKS)


def _unwrap(value: Any) -> Any:
    return value.get("value", value) if isinstance(value, dict) and "value" in value else value


def test_prod_dr_replicates_prods_planned_database_and_bucket(dr_plans: dict[str, StagePlan]):
    prod, dr = dr_plans["prod"], dr_plans["prod-dr"]
    db = one(dr, RDS)
    assert db.inputs["replicateSourceDb"] == prod.exports["database"]["resourceId"], db.urn
    rule = one(dr, REPLICATION)
    assert rule.inputs["bucket"] == prod.exports["storage"]["bucket"], rule.urn
    assert dr.exports["region"] != prod.exports["region"]
    regions = {r.name: r.inputs.get("region") for r in of_type(dr, "pulumi:providers:aws")}
    assert regions == {
        "prod-dr-provider": "us-west-2",
        "prod-dr-storage-primary-region": "us-east-1",
    }
    assert db.protect and db.retain_on_delete, db.urn
    bucket = one(dr, "aws:s3/bucket:Bucket")
    assert bucket.protect and bucket.retain_on_delete, bucket.urn


def test_prod_dr_pilot_light_runs_no_instance(dr_plans: dict[str, StagePlan]):
    group = one(dr_plans["prod-dr"], "aws:autoscaling/group:Group")
    assert group.inputs["minSize"] == 0, f"{group.urn}: minSize {group.inputs['minSize']}"
    # Still attached to its load balancer, ready for a failover to scale it.
    attachment = one(dr_plans["prod-dr"], "aws:autoscaling/attachment:Attachment")
    assert attachment.inputs["autoscalingGroupName"] == group.name, attachment.inputs


def test_prod_dr_routes_to_prod_first_with_health_checks(dr_plans: dict[str, StagePlan]):
    prod, dr = dr_plans["prod"], dr_plans["prod-dr"]
    records = {r.inputs["setIdentifier"]: r for r in of_type(dr, "aws:route53/record:Record")}
    assert set(records) == {"primary", "secondary"}, list(records)
    primary, secondary = records["primary"], records["secondary"]
    assert primary.inputs["failoverRoutingPolicies"] == [{"type": "PRIMARY"}], primary.urn
    assert secondary.inputs["failoverRoutingPolicies"] == [{"type": "SECONDARY"}], secondary.urn
    assert primary.inputs["records"] == [prod.exports["ingress"]["address"]], primary.urn
    assert secondary.inputs["records"] == [dr.exports["ingress"]["address"]], secondary.urn
    for rec in (primary, secondary):
        assert rec.inputs["name"] == "app.example.internal", rec.urn
        assert rec.inputs["ttl"] == 60 and rec.inputs["type"] == "CNAME", rec.urn
        assert rec.inputs.get("healthCheckId"), f"{rec.urn}: no health check"
    checks = {r.name: r.inputs for r in of_type(dr, "aws:route53/healthCheck:HealthCheck")}
    alarms = [
        r.inputs["name"]
        for r in of_type(prod, "aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.inputs.get("metricName") == "HealthyHostCount"
    ]
    prod_check = checks["prod-dr-routing-health-prod"]
    # Each side's check follows the alarm that side's own ingress keeps, in its region.
    assert prod_check["cloudwatchAlarmName"] in alarms, (prod_check, alarms)
    assert prod_check["cloudwatchAlarmRegion"] == "us-east-1", prod_check
    dr_alarms = [
        r.inputs["name"]
        for r in of_type(dr, "aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.inputs.get("metricName") == "HealthyHostCount"
    ]
    dr_check = checks["prod-dr-routing-health-prod-dr"]
    assert dr_check["cloudwatchAlarmName"] in dr_alarms, (dr_check, dr_alarms)
    assert dr_check["cloudwatchAlarmRegion"] == "us-west-2", dr_check


def test_prod_dr_once_active_prefers_itself_and_keeps_the_database(tmp_path: Path):
    folder = tmp_path / "stacks"
    shutil.copytree(REPO_STACKS, folder)
    shutil.copytree(REPO_STACKS.parent / "examples", tmp_path / "examples")
    edit_stack_file(folder / "Pulumi.prod-dr.yaml", {"disasterRecovery.role": "active"})
    plans = _plans(folder)
    dr = plans["prod-dr"]
    db = one(dr, RDS)
    assert "replicateSourceDb" not in db.inputs, f"{db.urn}: still a replica once active"
    assert db.name == "prod-dr-database-pg", db.urn
    records = {r.inputs["setIdentifier"]: r for r in of_type(dr, "aws:route53/record:Record")}
    assert records["primary"].inputs["records"] == [dr.exports["ingress"]["address"]]
    group = one(dr, "aws:autoscaling/group:Group")
    assert group.inputs["minSize"] == plans["prod"].exports["compute"]["minCount"], group.urn
