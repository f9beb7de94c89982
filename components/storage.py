"""Storage concern: a private, encrypted object store."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.dr import ReplicaPlan
from components.spec import StorageSpec


@dataclass(frozen=True)
class StorageArgs:
    spec: StorageSpec
    """The validated `storage` section: versioning and noncurrent-version expiry. Required."""
    protect: bool = False
    """Pulumi `protect` + `retain_on_delete` on the bucket. Default off."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""
    replica: ReplicaPlan | None = None
    """On a DR stage: objects are replicated from `replica.source.storage_id` into this
    stage's store. Default none."""


class Storage(pulumi.ComponentResource, ABC):
    resource_id: pulumi.Output[str]
    bucket_name: pulumi.Output[str]

    def _publish(self, resource_id: pulumi.Input[str], bucket_name: pulumi.Input[str]) -> None:
        """Set the outputs every target's storage has, and register them under the same keys.

        Called last by each target: the application and the contract read these attributes.
        """
        self.resource_id = pulumi.Output.from_input(resource_id)
        self.bucket_name = pulumi.Output.from_input(bucket_name)
        self.register_outputs({"resource_id": self.resource_id, "bucket_name": self.bucket_name})
