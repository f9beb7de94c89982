"""Disaster-recovery operations on AWS, with boto3 (components/dr_ops.py).

Each call builds its clients for the region of the stack it acts on (`StackView.region`);
boto3 takes credentials from its usual chain and endpoints from `AWS_ENDPOINT_URL`, so the
same code runs against AWS or a moto server. Resource names come from the contract outputs:
`database.resourceId` (the instance ARN), `storage.bucket`, `compute.group`, `ingress.address`
and `ingress.endpoint`.

Markers: only the object part. A row needs a SQL session with the database, which is private
and reachable only from the stage's own private tier, never from where the operator runs; the
drill's RPO on AWS therefore comes from the object marker and the replica lag metric.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from components.dr_ops import (
    DrSides,
    IngressHealth,
    Marker,
    OperationFailed,
    ReplicationState,
    StackView,
    http_health,
)
from components.routing import RECORD

PROMOTED_TAG = "stageline:dr-role"
"""Tag `promote` sets to `active` on the instance it promoted: RDS clears the replica's source
once promoted, but not every RDS implementation does (moto keeps it), so the role reads both."""
MARKER_PREFIX = "stageline-dr-markers/"
LAG_WINDOW = timedelta(minutes=10)
HEALTH_TIMEOUT_SECONDS = 5.0
PROMOTE_WAIT = {"Delay": 30, "MaxAttempts": 120}
"""Up to an hour: a cross-region promotion restarts the instance and takes a backup."""
SET_IDENTIFIERS = ("primary", "secondary")
"""components/aws/routing.py names the two failover records so."""


def _client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def _output(view: StackView, *path: str) -> str:
    value: Any = view.outputs
    for step in path:
        value = value.get(step) if isinstance(value, Mapping) else None
    if not value:
        raise OperationFailed(
            f"stack {view.stack} has no output {'.'.join(path)}; run `stageline up {view.stack}`"
        )
    return str(value)


def db_identifier(resource_id: str) -> str:
    """`prod-database-pg-1a2b` from `arn:aws:rds:us-east-1:111122223333:db:prod-database-pg-1a2b`
    (an identifier is returned as is)."""
    return resource_id.split(":db:", 1)[1] if ":db:" in resource_id else resource_id


def _describe(rds: Any, identifier: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = rds.describe_db_instances(DBInstanceIdentifier=identifier)[
            "DBInstances"
        ][0]
        return found
    except (ClientError, BotoCoreError) as exc:
        raise OperationFailed(f"RDS instance {identifier}: {exc}") from exc


def _is_replica(instance: Mapping[str, Any]) -> bool:
    tags = {t["Key"]: t["Value"] for t in instance.get("TagList", [])}
    promoted = tags.get(PROMOTED_TAG) == "active"
    return bool(instance.get("ReadReplicaSourceDBInstanceIdentifier")) and not promoted


def _replication_status(instance: Mapping[str, Any]) -> str | None:
    """RDS's `read replication` status (`replicating`, `error`, `stopped`...), if it reports one."""
    for info in instance.get("StatusInfos") or []:
        if info.get("StatusType") == "read replication":
            return str(info.get("Status"))
    return None


def replica_lag(cloudwatch: Any, identifier: str, now: datetime) -> float | None:
    """The newest `ReplicaLag` (seconds) RDS published for the replica, or None without data."""
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
        StartTime=now - LAG_WINDOW,
        # A minute past now: the request carries whole seconds, and a point published in the
        # current second must not fall past the end.
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )
    points = sorted(answer.get("Datapoints", []), key=lambda p: p["Timestamp"])
    return float(points[-1]["Maximum"]) if points else None


def newest_object_age(s3: Any, bucket: str, now: datetime) -> float | None:
    """Seconds since the newest object in the bucket was written; None for an empty bucket."""
    newest: datetime | None = None
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if newest is None or obj["LastModified"] > newest:
                newest = obj["LastModified"]
    return None if newest is None else max(0.0, (now - newest).total_seconds())


class AwsOperations:
    """`DrOperations` on RDS, S3, Auto Scaling, Route 53 and CloudWatch."""

    def replication(self, sides: DrSides) -> ReplicationState:
        view = sides.replica
        identifier = db_identifier(_output(view, "database", "resourceId"))
        instance = _describe(_client("rds", view.region), identifier)
        now = datetime.now(UTC)
        try:
            lag = replica_lag(_client("cloudwatch", view.region), identifier, now)
        except (ClientError, BotoCoreError):
            lag = None
        try:
            age = newest_object_age(
                _client("s3", view.region), _output(view, "storage", "bucket"), now
            )
        except (ClientError, BotoCoreError):
            age = None
        standby = _is_replica(instance)
        status = str(instance.get("DBInstanceStatus", "unknown"))
        replicating = _replication_status(instance)
        streaming = standby and status == "available" and replicating in (None, "replicating")
        detail = f"{identifier}: {status}"
        if standby:
            source = instance["ReadReplicaSourceDBInstanceIdentifier"]
            detail += f", replica of {source}" + (f" ({replicating})" if replicating else "")
        return ReplicationState(
            role="standby" if standby else "active",
            streaming=streaming,
            lag_seconds=lag if standby else None,
            newest_object_age_seconds=age,
            detail=detail,
        )

    def promote(self, sides: DrSides) -> None:
        view = sides.replica
        identifier = db_identifier(_output(view, "database", "resourceId"))
        rds = _client("rds", view.region)
        instance = _describe(rds, identifier)
        if not _is_replica(instance):
            return
        try:
            rds.promote_read_replica(DBInstanceIdentifier=identifier)
        except ClientError as exc:
            # Promoted already by an earlier, interrupted run: RDS says it is no replica.
            if exc.response.get("Error", {}).get("Code") != "InvalidDBInstanceState":
                raise OperationFailed(f"promoting RDS instance {identifier}: {exc}") from exc
        try:
            rds.get_waiter("db_instance_available").wait(
                DBInstanceIdentifier=identifier, WaiterConfig=PROMOTE_WAIT
            )
            rds.add_tags_to_resource(
                ResourceName=instance["DBInstanceArn"],
                Tags=[{"Key": PROMOTED_TAG, "Value": "active"}],
            )
        except (ClientError, BotoCoreError) as exc:
            raise OperationFailed(f"RDS instance {identifier} after promotion: {exc}") from exc

    def scale(self, view: StackView, count: int) -> None:
        group = _output(view, "compute", "group")
        autoscaling = _client("autoscaling", view.region)
        try:
            found = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])
            groups = found["AutoScalingGroups"]
            if not groups:
                raise OperationFailed(f"auto scaling group {group} not found in {view.region}")
            autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=group,
                MinSize=count,
                MaxSize=max(int(groups[0]["MaxSize"]), count),
                DesiredCapacity=count,
            )
        except (ClientError, BotoCoreError) as exc:
            raise OperationFailed(f"scaling {group} to {count}: {exc}") from exc

    def route(self, sides: DrSides, to: StackView) -> None:
        if not sides.zone:
            return
        other = sides.primary if to.stack == sides.replica.stack else sides.replica
        route53 = _client("route53", to.region)
        zone_id = _private_zone_id(route53, sides.zone)
        fqdn = f"{RECORD}.{sides.zone}."
        records = _failover_records(route53, zone_id, fqdn)
        checks = {r["ResourceRecords"][0]["Value"]: r.get("HealthCheckId") for r in records}
        wanted = (_output(to, "ingress", "address"), _output(other, "ingress", "address"))
        missing = [a for a in wanted if a not in checks]
        if missing:
            raise OperationFailed(
                f"{fqdn} in zone {sides.zone} has no failover record for {', '.join(missing)}; "
                f"run `stageline dr up {sides.replica.stack}` to create them"
            )
        changes = [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": fqdn,
                    "Type": "CNAME",
                    "SetIdentifier": identifier,
                    "Failover": identifier.upper(),
                    "TTL": int(records[0].get("TTL", 60)),
                    "ResourceRecords": [{"Value": address}],
                    **({"HealthCheckId": checks[address]} if checks[address] else {}),
                },
            }
            for identifier, address in zip(SET_IDENTIFIERS, wanted, strict=True)
        ]
        try:
            route53.change_resource_record_sets(
                HostedZoneId=zone_id,
                ChangeBatch={"Comment": f"stageline: route to {to.stack}", "Changes": changes},
            )
        except (ClientError, BotoCoreError) as exc:
            raise OperationFailed(f"updating {fqdn}: {exc}") from exc

    def ingress_health(self, view: StackView) -> IngressHealth:
        path = str(view.outputs.get("ingress", {}).get("healthPath") or "/healthz")
        return http_health(_output(view, "ingress", "endpoint"), path)

    def write_marker(self, view: StackView, name: str) -> Marker:
        bucket = _output(view, "storage", "bucket")
        s3 = _client("s3", view.region)
        written = datetime.now(UTC)
        try:
            s3.put_object(
                Bucket=bucket,
                Key=MARKER_PREFIX + name,
                Body=json.dumps({"marker": name, "writtenAt": written.isoformat()}).encode(),
                ContentType="application/json",
            )
            # S3's clock, not this machine's: the replica's copy is compared with it.
            head = s3.head_object(Bucket=bucket, Key=MARKER_PREFIX + name)
        except (ClientError, BotoCoreError) as exc:
            raise OperationFailed(f"writing marker {name} into s3://{bucket}: {exc}") from exc
        return Marker(name, head["LastModified"], {"object": True})

    def read_marker(self, view: StackView, name: str) -> Marker | None:
        bucket = _output(view, "storage", "bucket")
        s3 = _client("s3", view.region)
        try:
            body = s3.get_object(Bucket=bucket, Key=MARKER_PREFIX + name)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise OperationFailed(f"reading marker {name} from s3://{bucket}: {exc}") from exc
        written = datetime.fromisoformat(json.loads(body)["writtenAt"])
        return Marker(name, written, {"object": True})


def _private_zone_id(route53: Any, zone: str) -> str:
    wanted = zone.rstrip(".") + "."
    try:
        zones = route53.list_hosted_zones_by_name(DNSName=wanted)["HostedZones"]
    except (ClientError, BotoCoreError) as exc:
        raise OperationFailed(f"looking up hosted zone {zone}: {exc}") from exc
    for found in zones:
        if found["Name"] == wanted and found.get("Config", {}).get("PrivateZone"):
            return str(found["Id"]).rsplit("/", 1)[-1]
    raise OperationFailed(
        f"no private hosted zone {zone}; create it, or fix disasterRecovery.dnsZone"
    )


def _failover_records(route53: Any, zone_id: str, fqdn: str) -> list[dict[str, Any]]:
    answer = route53.list_resource_record_sets(
        HostedZoneId=zone_id, StartRecordName=fqdn, StartRecordType="CNAME"
    )
    return [
        r
        for r in answer["ResourceRecordSets"]
        if r["Name"] == fqdn and r.get("SetIdentifier") in SET_IDENTIFIERS
    ]


OPERATIONS = AwsOperations()
