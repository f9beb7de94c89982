"""Observability concern: application logs and the alarms that page someone."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import pulumi

from components.spec import ObservabilitySpec


@dataclass(frozen=True)
class ObservabilityArgs:
    spec: ObservabilitySpec
    """The validated `observability` section: log retention and alarms. Required."""
    compute_group: pulumi.Input[str]
    """Compute group to watch. Required."""
    database_identifier: pulumi.Input[str]
    """Database instance to watch. Required."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""


Subject = Literal["compute", "database"]
"""What an alarm watches: the compute group or the database instance."""


class WatchedMetric(NamedTuple):
    """One alarm, named in the target's own metric and unit."""

    suffix: str
    """Names the alarm child, `{name}-{suffix}`."""
    subject: Subject
    """Whether the compute group or the database is watched."""
    metric: str
    """The target's name of the metric."""
    threshold: float
    """The value that trips the alarm, in the metric's unit."""
    below: bool = False
    """Trips under the threshold (free space) rather than over it (usage)."""


@dataclass(frozen=True)
class AlarmMetrics:
    """A target's names for the metrics every stage is alarmed on: target data."""

    compute_cpu: str
    """CPU use of the compute group's instances."""
    database_cpu: str
    """CPU use of the database."""
    database_storage: str
    """The database's storage, used or free."""
    storage_threshold: float
    """Where the storage alarm trips, in the metric's unit."""
    storage_below: bool = False
    """The storage metric is free space: the alarm trips under the threshold."""
    cpu_as_ratio: bool = False
    """The CPU metrics are ratios (0 to 1) rather than percentages."""


def watched_metrics(
    enabled: bool, cpu_alarm_percent: int, names: AlarmMetrics
) -> list[WatchedMetric]:
    """The alarms every target raises (none when alarms are off), in the target's names."""
    if not enabled:
        return []
    cpu = cpu_alarm_percent / 100 if names.cpu_as_ratio else cpu_alarm_percent
    return [
        WatchedMetric("compute-cpu", "compute", names.compute_cpu, cpu),
        WatchedMetric("database-cpu", "database", names.database_cpu, cpu),
        WatchedMetric(
            "database-storage",
            "database",
            names.database_storage,
            names.storage_threshold,
            names.storage_below,
        ),
    ]


def watched_id(args: ObservabilityArgs, subject: Subject) -> pulumi.Input[str]:
    """The watched resource's name or id, as the target's monitoring addresses it."""
    return args.compute_group if subject == "compute" else args.database_identifier


class Observability(pulumi.ComponentResource, ABC):
    log_group_name: pulumi.Output[str]
    alarm_count: int

    def _publish(
        self, log_group_name: pulumi.Input[str], alarms: Sequence[pulumi.Resource]
    ) -> None:
        """Set the outputs every target's observability has, and register them.

        Called last by each target; `alarms` are the alarm resources it created (none where
        the target has no alarm service), so the count cannot disagree with what exists.
        """
        self.log_group_name = pulumi.Output.from_input(log_group_name)
        self.alarm_count = len(alarms)
        self.register_outputs(
            {"log_group_name": self.log_group_name, "alarm_count": self.alarm_count}
        )
