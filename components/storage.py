"""Storage concern: a private, encrypted object store."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class StorageArgs:
    versioning: bool = True
    """Keep object versions. Default on."""
    retention_days: int = 30
    """Days before noncurrent versions expire. Default 30."""
    protect: bool = False
    """Pulumi `protect` + `retain_on_delete` on the bucket. Default off."""
    account_name: str | None = None
    """The storage account's name where the target has one (Azure). Default derived."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""


class Storage(pulumi.ComponentResource, ABC):
    resource_id: pulumi.Output[str]
    bucket_name: pulumi.Output[str]

    def _register(self) -> None:
        self.register_outputs({"resource_id": self.resource_id, "bucket_name": self.bucket_name})
