"""A GCS bucket: uniform access, public access prevented, versioning and noncurrent-version
expiry per the spec. Google encrypts objects at rest by default."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import storage

from components.gcp.context import provider_region
from components.gcp.naming import labels
from components.storage import Storage, StorageArgs


@dataclass(frozen=True)
class GcpStorageArgs(StorageArgs):
    location: str | None = None
    """Bucket location. Default: the region of the stage's gcp provider."""


class GcpStorage(Storage):
    bucket: storage.Bucket

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:storage:GcpStorage", name, None, opts)
        location = getattr(args, "location", None) or provider_region(self)
        if location is None:
            raise ValueError(
                f"{name}: a bucket needs a location: give GcpStorageArgs.location or an explicit "
                "gcp provider with a region"
            )

        self.bucket = storage.Bucket(
            f"{name}-bucket",
            location=location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": args.spec.versioning},
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {
                        "days_since_noncurrent_time": args.spec.retention_days,
                        "with_state": "ARCHIVED",
                    },
                },
                {
                    "action": {"type": "AbortIncompleteMultipartUpload"},
                    "condition": {"age": 7},
                },
            ],
            # An unprotected (ephemeral) stage must be destroyable with objects still in it.
            force_destroy=not args.protect,
            labels=labels(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )

        self._publish(self.bucket.self_link, self.bucket.name)
