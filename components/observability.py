"""Observability concern: application logs and the alarms that page someone."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass

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


class Observability(pulumi.ComponentResource, ABC):
    log_group_name: pulumi.Output[str]
    alarm_count: int

    def _register(self) -> None:
        self.register_outputs(
            {"log_group_name": self.log_group_name, "alarm_count": self.alarm_count}
        )
