"""A Cloud Logging bucket with the stage's retention and a sink routing the compute group's logs
into it, and alert policies on compute CPU, database CPU and database disk."""

from __future__ import annotations

import pulumi
import pulumi_random as random
from pulumi_gcp import logging, monitoring

from components.gcp.context import provider_region
from components.gcp.naming import labels
from components.observability import (
    AlarmMetrics,
    Observability,
    ObservabilityArgs,
    Subject,
    WatchedMetric,
    watched_id,
    watched_metrics,
)

DATABASE_DISK_ALERT_RATIO = 0.9
METRICS = AlarmMetrics(
    compute_cpu="compute.googleapis.com/instance/cpu/utilization",
    database_cpu="cloudsql.googleapis.com/database/cpu/utilization",
    database_storage="cloudsql.googleapis.com/database/disk/utilization",
    storage_threshold=DATABASE_DISK_ALERT_RATIO,
    cpu_as_ratio=True,
)
TITLES = {
    "compute-cpu": "compute CPU",
    "database-cpu": "database CPU",
    "database-storage": "database disk",
}
DOCKER_LOG_ID = "gcplogs-docker-driver"
"""The log docker's gcplogs driver writes every container's output to."""


def app_log_filter(project: str, group: str) -> str:
    """The entries docker's gcplogs driver writes for the group's instances.

    The driver sends to the log `gcplogs-docker-driver` with the `gce_instance` resource (labels
    instance_id and zone only) and puts the instance's name in the payload; it sets no
    `compute.googleapis.com/resource_name` label. Instance names are the group's base name, "-"
    and 4 characters, so another group whose name merely starts with this one's is left out.
    """
    return (
        f'logName="projects/{project}/logs/{DOCKER_LOG_ID}" AND '
        'resource.type="gce_instance" AND '
        f'jsonPayload.instance.name=~"^{group}-[a-z0-9]{{4}}$"'
    )


def metric_filter(subject: Subject, metric: str, watched: str) -> str:
    """The time series of `metric` for the watched group (its instances are named after it) or
    database (its monitoring id)."""
    if subject == "compute":
        return (
            'resource.type="gce_instance" AND '
            f'metric.type="{metric}" AND '
            f'metadata.system_labels.name=monitoring.regex.full_match("{watched}-.*")'
        )
    return (
        'resource.type="cloudsql_database" AND '
        f'metric.type="{metric}" AND '
        f'resource.labels.database_id="{watched}"'
    )


def _threshold(watched: WatchedMetric, filter_: pulumi.Input[str]) -> dict[str, object]:
    return {
        "display_name": TITLES[watched.suffix],
        "condition_threshold": {
            "filter": filter_,
            "comparison": "COMPARISON_LT" if watched.below else "COMPARISON_GT",
            "threshold_value": watched.threshold,
            "duration": "300s",
            "aggregations": [{"alignment_period": "300s", "per_series_aligner": "ALIGN_MEAN"}],
        },
    }


class GcpObservability(Observability):
    log_bucket: logging.ProjectBucketConfig
    sink: logging.ProjectSink
    alarms: list[monitoring.AlertPolicy]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:observability:GcpObservability", name, None, opts)
        mine = pulumi.ResourceOptions(parent=self)
        group = pulumi.Output.from_input(args.compute_group)
        database_id = pulumi.Output.from_input(args.database_identifier)
        # A log bucket needs its project spelt out, and the provider may take it from the
        # environment; the database's monitoring ID ("<project>:<instance>") carries the one
        # the stage actually runs in.
        project = database_id.apply(lambda i: i.split(":", 1)[0])

        # A deleted log bucket keeps its id for 7 days: each bucket gets a suffix of its own,
        # kept across updates, so that a stage destroyed and brought up again gets a new one.
        suffix = random.RandomString(
            f"{name}-logs-suffix", length=6, special=False, upper=False, opts=mine
        )
        self.log_bucket = logging.ProjectBucketConfig(
            f"{name}-logs",
            project=project,
            location=provider_region(self) or "global",
            bucket_id=pulumi.Output.concat(name, "-logs-", suffix.result),
            retention_days=args.spec.log_retention_days,
            description=f"stageline {name}: application logs",
            opts=mine,
        )
        self.sink = logging.ProjectSink(
            f"{name}-sink",
            project=project,
            destination=pulumi.Output.concat("logging.googleapis.com/", self.log_bucket.name),
            # The group's instances are named after it (see GcpCompute).
            filter=pulumi.Output.all(project, group).apply(lambda v: app_log_filter(v[0], v[1])),
            unique_writer_identity=True,
            opts=pulumi.ResourceOptions(parent=self.log_bucket),
        )

        # Operators add notification channels (email, PagerDuty) to the policies, as they
        # subscribe to the SNS topic on AWS.
        self.alarms = [
            monitoring.AlertPolicy(
                f"{name}-{watched.suffix}",
                project=project,
                display_name=f"{name} {TITLES[watched.suffix]}",
                combiner="OR",
                conditions=[
                    _threshold(
                        watched,
                        pulumi.Output.from_input(watched_id(args, watched.subject)).apply(
                            lambda w, m=watched: metric_filter(m.subject, m.metric, w)
                        ),
                    )
                ],
                user_labels=labels(args.tags),
                opts=mine,
            )
            for watched in watched_metrics(args.spec.alarms, args.spec.cpu_alarm_percent, METRICS)
        ]

        self._publish(self.log_bucket.name, self.alarms)
