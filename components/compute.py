"""Compute concern: a group of identical application instances in the private tier."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class ComputeArgs:
    size: str
    """Abstract size class, mapped to an instance type by the target. Required."""
    min_count: int
    """Fewest instances. Required."""
    max_count: int
    """Most instances. Required."""
    network_id: pulumi.Input[str]
    """Network the group lives in. Required."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets to place instances in. Required."""
    ingress_cidr: str
    """The only range allowed to reach the application port (the stage network). Required."""
    artifact: str
    """Release artifact (container image) the instances run. Required."""
    app_port: int = 8080
    """Application port. Default 8080."""
    sku: str | None = None
    """The target's own instance type in place of `size`, already validated. Default none."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""


class Compute(pulumi.ComponentResource, ABC):
    group_name: pulumi.Output[str]
    """Name the monitoring concern uses as the alarm dimension."""

    def _register(self) -> None:
        self.register_outputs({"group_name": self.group_name})
