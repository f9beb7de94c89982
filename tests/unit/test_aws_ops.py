"""AWS DR operations against moto (in process): replica role and lag, promotion, scaling,
failover records, bucket replication and markers, and ingress health over loopback HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from components.aws.ops import OPERATIONS, PROMOTED_TAG, db_identifier
from components.dr_ops import DrSides, OperationFailed, StackView, operations_of

PRIMARY, DR = "us-east-1", "us-west-2"
ZONE = "example.internal"
PRIMARY_LB = "internal-prod-ingress-alb-1.us-east-1.elb.amazonaws.com"
DR_LB = "internal-prod-dr-ingress-alb-2.us-west-2.elb.amazonaws.com"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": PRIMARY,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def _databases() -> tuple[str, str]:
    """A primary in us-east-1 and its cross-region replica (from the primary's ARN)."""
    east = boto3.client("rds", region_name=PRIMARY)
    primary = east.create_db_instance(
        DBInstanceIdentifier="prod-database-pg",
        Engine="postgres",
        EngineVersion="16.4",
        DBInstanceClass="db.m6g.large",
        AllocatedStorage=200,
        MasterUsername="stageline",
        MasterUserPassword="primary-password",
        StorageEncrypted=True,
        BackupRetentionPeriod=30,
    )["DBInstance"]
    west = boto3.client("rds", region_name=DR)
    key = boto3.client("kms", region_name=DR).create_key()["KeyMetadata"]["Arn"]
    replica = west.create_db_instance_read_replica(
        DBInstanceIdentifier="prod-dr-database-pg",
        SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        DBInstanceClass="db.m6g.large",
        KmsKeyId=key,
    )["DBInstance"]
    return primary["DBInstanceArn"], replica["DBInstanceArn"]


def _sides(primary_db: str, replica_db: str, **extra: Any) -> DrSides:
    primary = StackView(
        "prod",
        PRIMARY,
        {
            "database": {"resourceId": primary_db},
            "storage": {"bucket": "prod-bucket"},
            "compute": {"group": "prod-compute-asg", "minCount": 3},
            "ingress": {"address": PRIMARY_LB, "endpoint": f"http://{PRIMARY_LB}/"},
        },
    )
    replica = StackView(
        "prod-dr",
        DR,
        {
            "database": {"resourceId": replica_db},
            "storage": {"bucket": "prod-dr-bucket"},
            "compute": {"group": "prod-dr-compute-asg", "minCount": 3},
            "ingress": {"address": DR_LB, "endpoint": f"http://{DR_LB}/"},
            **extra,
        },
    )
    return DrSides(primary, replica, ZONE)


def _bucket(name: str, region: str) -> Any:
    s3 = boto3.client("s3", region_name=region)
    # us-east-1 takes no location constraint.
    where = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=name, **({"CreateBucketConfiguration": where} if where else {}))
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def test_the_target_names_its_operations() -> None:
    from components.aws.target import TARGET

    assert operations_of(TARGET.ops) is OPERATIONS


def test_db_identifier_reads_the_arn() -> None:
    arn = "arn:aws:rds:us-west-2:111122223333:db:prod-dr-database-pg-1a2b"
    assert db_identifier(arn) == "prod-dr-database-pg-1a2b"
    assert db_identifier("plain-id") == "plain-id"


def test_replica_reads_standby_with_lag_and_objects_then_promotes_once(aws: None) -> None:
    primary_db, replica_db = _databases()
    _bucket("prod-dr-bucket", DR).put_object(Bucket="prod-dr-bucket", Key="a", Body=b"x")
    # RDS publishes ReplicaLag for a replica; here the test plays RDS.
    boto3.client("cloudwatch", region_name=DR).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "prod-dr-database-pg"}],
                "Timestamp": datetime.now(UTC),
                "Value": 42.0,
                "Unit": "Seconds",
            }
        ],
    )
    sides = _sides(primary_db, replica_db)

    before = OPERATIONS.replication(sides)
    assert before.role == "standby", before
    assert before.streaming, before
    assert before.lag_seconds == 42.0, before
    assert before.newest_object_age_seconds is not None
    assert 0 <= before.newest_object_age_seconds < 120, before
    assert "prod-database-pg" in before.detail, before.detail

    OPERATIONS.promote(sides)
    after = OPERATIONS.replication(sides)
    assert after.role == "active", after
    assert after.lag_seconds is None and not after.streaming, after
    west = boto3.client("rds", region_name=DR)
    tags = west.list_tags_for_resource(ResourceName=replica_db)["TagList"]
    assert {"Key": PROMOTED_TAG, "Value": "active"} in tags, tags
    # A failover run again after an interruption promotes nothing twice.
    OPERATIONS.promote(sides)
    assert OPERATIONS.replication(sides).role == "active"


def test_a_missing_output_names_the_stack_and_the_fix(aws: None) -> None:
    sides = DrSides(
        StackView("prod", PRIMARY, {}), StackView("prod-dr", DR, {"database": {}}), ZONE
    )
    with pytest.raises(OperationFailed, match=r"prod-dr.*database.resourceId.*stageline up"):
        OPERATIONS.replication(sides)


def test_scale_sets_min_and_desired_and_raises_max(aws: None) -> None:
    autoscaling = boto3.client("autoscaling", region_name=DR)
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="prod-dr-compute-asg",
        LaunchConfigurationName="lc",
        MinSize=0,
        MaxSize=2,
        AvailabilityZones=["us-west-2a"],
    )
    view = StackView("prod-dr", DR, {"compute": {"group": "prod-dr-compute-asg"}})
    OPERATIONS.scale(view, 3)
    (group,) = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=["prod-dr-compute-asg"]
    )["AutoScalingGroups"]
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (3, 3, 3), group
    with pytest.raises(OperationFailed, match="not found"):
        OPERATIONS.scale(StackView("x", DR, {"compute": {"group": "nope"}}), 1)


def _zone_with_failover_records() -> tuple[Any, str, dict[str, str]]:
    vpc = boto3.client("ec2", region_name=DR).create_vpc(CidrBlock="10.51.0.0/16")["Vpc"]
    route53 = boto3.client("route53", region_name=PRIMARY)
    zone_id = route53.create_hosted_zone(
        Name=ZONE,
        CallerReference="stageline-test",
        HostedZoneConfig={"PrivateZone": True, "Comment": "test"},
        VPC={"VPCRegion": DR, "VPCId": vpc["VpcId"]},
    )["HostedZone"]["Id"].rsplit("/", 1)[-1]
    checks = {}
    for address, stage, region in ((PRIMARY_LB, "prod", PRIMARY), (DR_LB, "prod-dr", DR)):
        checks[address] = route53.create_health_check(
            CallerReference=f"check-{stage}",
            HealthCheckConfig={
                "Type": "CLOUDWATCH_METRIC",
                "AlarmIdentifier": {"Region": region, "Name": f"{stage}-ingress-healthy-hosts"},
                "InsufficientDataHealthStatus": "Unhealthy",
            },
        )["HealthCheck"]["Id"]
    changes = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": f"app.{ZONE}.",
                "Type": "CNAME",
                "SetIdentifier": identifier,
                "Failover": identifier.upper(),
                "TTL": 60,
                "ResourceRecords": [{"Value": address}],
                "HealthCheckId": checks[address],
            },
        }
        for identifier, address in (("primary", PRIMARY_LB), ("secondary", DR_LB))
    ]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return route53, zone_id, checks


def _records(route53: Any, zone_id: str) -> dict[str, dict[str, Any]]:
    found = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["SetIdentifier"]: r for r in found if r.get("SetIdentifier")}


def test_route_flips_the_failover_records_with_their_health_checks(aws: None) -> None:
    route53, zone_id, checks = _zone_with_failover_records()
    sides = _sides("arn:p", "arn:r")

    OPERATIONS.route(sides, sides.replica)
    records = _records(route53, zone_id)
    primary, secondary = records["primary"], records["secondary"]
    assert primary["Failover"] == "PRIMARY" and secondary["Failover"] == "SECONDARY"
    assert primary["ResourceRecords"] == [{"Value": DR_LB}], primary
    assert primary["HealthCheckId"] == checks[DR_LB], primary
    assert secondary["ResourceRecords"] == [{"Value": PRIMARY_LB}], secondary
    assert secondary["HealthCheckId"] == checks[PRIMARY_LB], secondary

    # Again (an interrupted failover): the same records. Back (failback): as they were.
    OPERATIONS.route(sides, sides.replica)
    assert _records(route53, zone_id)["primary"]["ResourceRecords"] == [{"Value": DR_LB}]
    OPERATIONS.route(sides, sides.primary)
    back = _records(route53, zone_id)
    assert back["primary"]["ResourceRecords"] == [{"Value": PRIMARY_LB}], back
    assert back["primary"]["HealthCheckId"] == checks[PRIMARY_LB], back


def test_route_without_a_zone_does_nothing_and_without_records_says_so(aws: None) -> None:
    sides = _sides("arn:p", "arn:r")
    OPERATIONS.route(DrSides(sides.primary, sides.replica, None), sides.replica)
    with pytest.raises(OperationFailed, match="no private hosted zone"):
        OPERATIONS.route(sides, sides.replica)


def test_bucket_replication_rule_is_accepted_between_versioned_buckets(aws: None) -> None:
    """The rule components/aws/storage.py puts on the primary's bucket, in S3's own words."""
    s3 = _bucket("prod-bucket", PRIMARY)
    _bucket("prod-dr-bucket", DR)
    key = boto3.client("kms", region_name=DR).create_key()["KeyMetadata"]["Arn"]
    rule = {
        "ID": "stageline-dr-prod-dr-storage",
        "Status": "Enabled",
        "Priority": 0,
        "Filter": {},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {
            "Bucket": "arn:aws:s3:::prod-dr-bucket",
            "StorageClass": "STANDARD",
            "EncryptionConfiguration": {"ReplicaKmsKeyID": key},
        },
    }
    s3.put_bucket_replication(
        Bucket="prod-bucket",
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/prod-dr-storage-replication",
            "Rules": [rule],
        },
    )
    got = s3.get_bucket_replication(Bucket="prod-bucket")["ReplicationConfiguration"]
    assert got["Rules"][0]["Destination"]["Bucket"] == "arn:aws:s3:::prod-dr-bucket", got


def test_object_marker_round_trip(aws: None) -> None:
    _bucket("prod-bucket", PRIMARY)
    view = StackView("prod", PRIMARY, {"storage": {"bucket": "prod-bucket"}})
    written = OPERATIONS.write_marker(view, "drill-1")
    assert written.found == {"object": True}, written
    read = OPERATIONS.read_marker(view, "drill-1")
    assert read is not None and read.found == {"object": True}, read
    assert abs((read.written_at - written.written_at).total_seconds()) < 5, (read, written)
    assert OPERATIONS.read_marker(view, "never-written") is None


class _App(BaseHTTPRequestHandler):
    answer: tuple[int, dict[str, Any]] = (200, {})

    def do_GET(self) -> None:
        status, body = self.answer if self.path == "/healthz" else (404, {"error": "not found"})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def app() -> Iterator[tuple[str, type[_App]]]:
    handler = type("App", (_App,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    finally:
        server.shutdown()
        server.server_close()


def test_ingress_health_reads_the_example_apps_answer(app: tuple[str, type[_App]]) -> None:
    endpoint, handler = app
    view = StackView("prod-dr", DR, {"ingress": {"endpoint": endpoint, "healthPath": "/healthz"}})
    handler.answer = (200, {"status": "ok", "appVersion": "1.4.2", "database": {"role": "primary"}})
    health = OPERATIONS.ingress_health(view)
    assert health.healthy and health.app_version == "1.4.2", health
    assert health.database_role == "primary", health
    assert health.detail == "200, appVersion 1.4.2, database primary", health.detail
    handler.answer = (503, {"status": "degraded", "appVersion": "1.4.2", "database": {}})
    assert not OPERATIONS.ingress_health(view).healthy


def test_ingress_health_of_an_unreachable_endpoint_is_unhealthy() -> None:
    view = StackView("x", DR, {"ingress": {"endpoint": "http://127.0.0.1:9/"}})
    health = OPERATIONS.ingress_health(view)
    assert not health.healthy and "127.0.0.1:9" in health.detail, health
