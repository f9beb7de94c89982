"""The pieces every target shares: the alarms it raises (`WatchedMetric`) and the outputs every
concern publishes (`Network._publish`, `Database._publish`, `Compute._publish`,
`Storage._publish`, `Observability._publish`), built under mocks and read back from the
registered inputs."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.aws.observability import AwsObservability
from components.azure.observability import AzureObservability
from components.compute import Compute
from components.database import ADMIN_USER, POSTGRES_PORT, Database
from components.gcp.observability import GcpObservability
from components.network import Network
from components.observability import (
    AlarmMetrics,
    Observability,
    ObservabilityArgs,
    WatchedMetric,
    watched_metrics,
)
from components.storage import Storage
from tests.unit.args import observability_args
from tests.unit.recording import after_registration, program_test
from tests.unit.test_azure_components import RecordingMocks


@pytest.fixture
def recorded() -> RecordingMocks:
    m = RecordingMocks()
    pulumi.runtime.set_mocks(m, project="stageline", stack="unit", preview=False)
    return m


GROUP = "shop-compute"
DATABASE = "proj-1:shop-pg"

# What each target alarms on, written out: (child name, metric, comparison, threshold, watched).
ASG = {"AutoScalingGroupName": GROUP}
RDS = {"DBInstanceIdentifier": DATABASE}
AWS = [
    ("o-compute-cpu", "CPUUtilization", "GreaterThanThreshold", 75, ASG),
    ("o-database-cpu", "CPUUtilization", "GreaterThanThreshold", 75, RDS),
    ("o-database-storage", "FreeStorageSpace", "LessThanThreshold", 2 * 1024**3, RDS),
]
VMSS = "Microsoft.Compute/virtualMachineScaleSets"
PG = "Microsoft.DBforPostgreSQL/flexibleServers"
AZURE = [
    ("o-compute-cpu", "Percentage CPU", "GreaterThan", 75, GROUP, VMSS),
    ("o-database-cpu", "cpu_percent", "GreaterThan", 75, DATABASE, PG),
    ("o-database-storage", "storage_percent", "GreaterThan", 90, DATABASE, PG),
]
GCP = [
    ("o-compute-cpu", "o compute CPU", 0.75,
     'resource.type="gce_instance" AND '
     'metric.type="compute.googleapis.com/instance/cpu/utilization" AND '
     f'metadata.system_labels.name=monitoring.regex.full_match("{GROUP}-.*")'),
    ("o-database-cpu", "o database CPU", 0.75,
     'resource.type="cloudsql_database" AND '
     'metric.type="cloudsql.googleapis.com/database/cpu/utilization" AND '
     f'resource.labels.database_id="{DATABASE}"'),
    ("o-database-storage", "o database disk", 0.9,
     'resource.type="cloudsql_database" AND '
     'metric.type="cloudsql.googleapis.com/database/disk/utilization" AND '
     f'resource.labels.database_id="{DATABASE}"'),
]  # fmt: skip


def _args(alarms: bool = True) -> ObservabilityArgs:
    return observability_args(
        compute_group=GROUP, database_identifier=DATABASE, alarms=alarms, cpu_alarm_percent=75
    )


def _alarms(mocks: RecordingMocks, suffix: str) -> list[pulumi.runtime.MockResourceArgs]:
    return sorted(mocks.of_type(suffix), key=lambda r: r.name)


@program_test
def test_aws_alarms(recorded: RecordingMocks):
    obs = AwsObservability("o", _args())

    def check(values: list[Any]) -> None:
        urn = values[0]
        seen = [
            (
                a.name,
                a.inputs["metricName"],
                a.inputs["comparisonOperator"],
                a.inputs["threshold"],
                a.inputs["dimensions"],
            )
            for a in _alarms(recorded, "cloudwatch/metricAlarm:MetricAlarm")
        ]
        assert seen == sorted(AWS), f"{urn}: {seen}"
        namespaces = {a.name: a.inputs["namespace"] for a in recorded.created if "Alarm" in a.typ}
        assert namespaces == {
            "o-compute-cpu": "AWS/EC2",
            "o-database-cpu": "AWS/RDS",
            "o-database-storage": "AWS/RDS",
        }, urn
        assert obs.alarm_count == 3, urn

    return pulumi.Output.all(obs.urn, *[a.urn for a in obs.alarms]).apply(after_registration(check))


@program_test
def test_azure_alerts(recorded: RecordingMocks):
    obs = AzureObservability("o", _args())

    def check(values: list[Any]) -> None:
        urn = values[0]
        seen = []
        for alert in _alarms(recorded, "monitor:MetricAlert"):
            (criterion,) = alert.inputs["criteria"]["all_of"]
            seen.append(
                (
                    alert.name,
                    criterion["metric_name"],
                    criterion["operator"],
                    criterion["threshold"],
                    *alert.inputs["scopes"],
                    alert.inputs["targetResourceType"],
                )
            )
            assert criterion["name"] == alert.name.removeprefix("o-"), alert.name
        assert seen == sorted(AZURE), f"{urn}: {seen}"
        assert obs.alarm_count == 3, urn

    return pulumi.Output.all(obs.urn, *[a.urn for a in obs.alarms]).apply(after_registration(check))


@program_test
def test_gcp_alert_policies(recorded: RecordingMocks):
    obs = GcpObservability("o", _args())

    def check(values: list[Any]) -> None:
        urn = values[0]
        seen = []
        for policy in _alarms(recorded, "monitoring/alertPolicy:AlertPolicy"):
            (condition,) = policy.inputs["conditions"]
            threshold = condition["conditionThreshold"]
            assert threshold["comparison"] == "COMPARISON_GT", policy.name
            assert condition["displayName"] == policy.inputs["displayName"][2:], policy.name
            seen.append(
                (
                    policy.name,
                    policy.inputs["displayName"],
                    threshold["thresholdValue"],
                    threshold["filter"],
                )
            )
        assert seen == sorted(GCP), f"{urn}: {seen}"
        assert obs.alarm_count == 3, urn

    return pulumi.Output.all(obs.urn, *[a.urn for a in obs.alarms]).apply(after_registration(check))


@pytest.mark.parametrize("kind", [AwsObservability, AzureObservability, GcpObservability])
@program_test
def test_alarms_off_raises_none(recorded: RecordingMocks, kind: type[Observability]):
    obs = kind("o", _args(alarms=False))  # type: ignore[call-arg]

    def check(urn: str) -> None:
        alarms = [r.name for r in recorded.created if "Alarm" in r.typ or "Alert" in r.typ]
        assert alarms == [], f"{urn}: {alarms}"
        assert obs.alarm_count == 0, urn

    return obs.urn.apply(after_registration(check))


NAMES = AlarmMetrics("cpu", "db-cpu", "db-free", 5, storage_below=True)


@pytest.mark.parametrize(
    ("enabled", "names", "expected"),
    [
        (False, NAMES, []),
        (
            True,
            NAMES,
            [
                WatchedMetric("compute-cpu", "compute", "cpu", 80),
                WatchedMetric("database-cpu", "database", "db-cpu", 80),
                WatchedMetric("database-storage", "database", "db-free", 5, below=True),
            ],
        ),
        (
            True,
            AlarmMetrics("cpu", "db-cpu", "db-used", 0.9, cpu_as_ratio=True),
            [
                WatchedMetric("compute-cpu", "compute", "cpu", 0.8),
                WatchedMetric("database-cpu", "database", "db-cpu", 0.8),
                WatchedMetric("database-storage", "database", "db-used", 0.9),
            ],
        ),
    ],
)
def test_watched_metrics(enabled: bool, names: AlarmMetrics, expected: list[Any]) -> None:
    assert watched_metrics(enabled, 80, names) == expected


# --- what every network publishes -------------------------------------------------------------


class _StubNetwork(Network):
    """A target's network reduced to its publishing line."""

    def __init__(self, name: str, egress: tuple[pulumi.Resource, ...]) -> None:
        super().__init__("stageline:network:StubNetwork", name, None, None)
        self._publish(
            pulumi.Output.from_input("net-1"),
            "10.9.0.0/16",
            ["pub-0", pulumi.Output.from_input("pub-1")],
            [pulumi.Output.from_input("priv-0")],
            ["10.9.128.0/18"],
            egress=egress,
            ready=egress,
        )


@program_test
def test_publish_sets_every_network_output(recorded: RecordingMocks):
    gateway = pulumi.CustomResource("test:index:Gateway", "gw")
    net = _StubNetwork("n", (gateway,))

    def check(values: list[Any]) -> None:
        urn, network_id, public, private, waits_for = values
        assert network_id == "net-1", urn
        assert gateway in waits_for, f"{urn}: the network ID does not wait for what it needs"
        assert public == ["pub-0", "pub-1"], urn
        assert private == ["priv-0"], urn
        assert net.cidr == "10.9.0.0/16", urn
        assert net.private_subnet_cidrs == ("10.9.128.0/18",), urn
        assert net.egress == (gateway,), urn

    return pulumi.Output.all(
        net.urn,
        net.network_id,
        net.public_subnet_ids,
        net.private_subnet_ids,
        pulumi.Output.from_input(net.network_id.resources()),
    ).apply(after_registration(check))


# --- what every database publishes ------------------------------------------------------------


class _StubDatabase(Database):
    """A target's database reduced to its publishing line."""

    def __init__(self, name: str, **port: Any) -> None:
        super().__init__("stageline:database:StubDatabase", name, None, None)
        self._publish("id-1", "db-1", "db.internal", "plain-password", "app", "16", **port)


@pytest.mark.parametrize(("port", "expected"), [({}, POSTGRES_PORT), ({"port": 6432}, 6432)])
@program_test
def test_publish_sets_every_database_output(
    recorded: RecordingMocks, port: dict[str, int], expected: int
):
    db = _StubDatabase("d", **port)

    def check(values: list[Any]) -> None:
        urn, resource_id, identifier, endpoint, published_port, secret = values
        assert (resource_id, identifier, endpoint) == ("id-1", "db-1", "db.internal"), urn
        assert published_port == expected, urn
        assert secret, f"{urn}: the password is published in plain text"
        assert (db.db_name, db.engine_version, db.admin_user) == ("app", "16", ADMIN_USER), urn

    return pulumi.Output.all(
        db.urn,
        db.resource_id,
        db.identifier,
        db.endpoint,
        db.port,
        pulumi.Output.is_secret(db.password),
    ).apply(after_registration(check))


# --- what every compute group, store and observability publishes -------------------------------


class _StubConcerns(pulumi.ComponentResource):
    """A target's compute, storage and observability reduced to their publishing lines."""

    def __init__(self, name: str, alarms: int) -> None:
        super().__init__("stageline:test:StubConcerns", name, None, None)
        mine = pulumi.ResourceOptions(parent=self)
        self.compute = _stub(Compute, f"{name}-compute", mine)
        self.compute._publish(pulumi.Output.from_input("shop-app"))
        self.storage = _stub(Storage, f"{name}-storage", mine)
        self.storage._publish("arn:bucket", pulumi.Output.from_input("shop-bucket"))
        self.alarms = [
            pulumi.CustomResource("test:index:Alarm", f"{name}-alarm-{i}", opts=mine)
            for i in range(alarms)
        ]
        self.observability = _stub(Observability, f"{name}-observability", mine)
        self.observability._publish("/stageline/shop", self.alarms)


def _stub(kind: type[Any], name: str, opts: pulumi.ResourceOptions) -> Any:
    """An instance of the abstract concern `kind` that has published nothing yet."""
    stub = type(f"Stub{kind.__name__}", (kind,), {})
    return stub(f"stageline:test:{stub.__name__}", name, None, opts)


@pytest.mark.parametrize("alarms", [0, 2])
@program_test
def test_publish_sets_every_compute_storage_and_observability_output(
    recorded: RecordingMocks, alarms: int
):
    stub = _StubConcerns("c", alarms)

    def check(values: list[Any]) -> None:
        urn, group, resource_id, bucket, log_group = values[:5]
        assert group == "shop-app", urn
        assert (resource_id, bucket) == ("arn:bucket", "shop-bucket"), urn
        assert log_group == "/stageline/shop", urn
        created = [r.name for r in recorded.created if r.typ == "test:index:Alarm"]
        assert stub.observability.alarm_count == len(created) == alarms, f"{urn}: {created}"

    return pulumi.Output.all(
        stub.urn,
        stub.compute.group_name,
        stub.storage.resource_id,
        stub.storage.bucket_name,
        stub.observability.log_group_name,
        *[a.urn for a in stub.alarms],  # the check runs once the alarms are registered
    ).apply(after_registration(check))
