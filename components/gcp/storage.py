"""A GCS bucket: uniform access, public access prevented, versioning and noncurrent-version
expiry per the spec. Google encrypts objects at rest by default.

On a DR stage the bucket is the DR bucket (versioned whatever the spec says, protected with
the stage's data) and a Storage Transfer Service replication job copies every new or changed
object of the primary's bucket into it, event-driven (cross-bucket replication: Storage
Transfer listens to the source bucket's Pub/Sub notifications). Objects that were in the
primary's bucket before the job existed are not copied by it; deletions are not replicated.
Storage Transfer's service agent gets what the replication needs: owner of the source bucket's
legacy role (to set up its notifications), writer of the DR bucket, and Pub/Sub editor in the
project; Cloud Storage's service agent publishes the notifications.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import projects, storage

from components.dr import ReplicaPlan
from components.gcp.context import provider_region
from components.gcp.naming import labels
from components.storage import Storage, StorageArgs

SOURCE_ROLE = "roles/storage.legacyBucketOwner"
SINK_ROLE = "roles/storage.legacyBucketWriter"
TRANSFER_PROJECT_ROLE = "roles/pubsub.editor"
NOTIFIER_PROJECT_ROLE = "roles/pubsub.publisher"


@dataclass(frozen=True)
class GcpStorageArgs(StorageArgs):
    location: str | None = None
    """Bucket location. Default: the region of the stage's gcp provider."""


class GcpStorage(Storage):
    bucket: storage.Bucket
    replication: storage.TransferJob | None
    """On a DR stage: the job copying the primary's objects into this bucket."""

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
            versioning={"enabled": args.spec.versioning or args.replica is not None},
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

        self.replication = None
        if args.replica is not None:
            self.replication = self._replicate(name, args.replica)

        self._publish(self.bucket.self_link, self.bucket.name)

    def _replicate(self, name: str, replica: ReplicaPlan) -> storage.TransferJob:
        source = replica.source.bucket
        invoke = pulumi.InvokeOutputOptions(parent=self)
        transfer = storage.get_transfer_project_service_account_output(opts=invoke)
        notifier = storage.get_project_service_account_output(opts=invoke)
        transfer_member = pulumi.Output.concat("serviceAccount:", transfer.email)
        grants_opts = pulumi.ResourceOptions(parent=self.bucket)
        grants = [
            storage.BucketIAMMember(
                f"{name}-replication-source",
                bucket=source,
                role=SOURCE_ROLE,
                member=transfer_member,
                opts=grants_opts,
            ),
            storage.BucketIAMMember(
                f"{name}-replication-sink",
                bucket=self.bucket.name,
                role=SINK_ROLE,
                member=transfer_member,
                opts=grants_opts,
            ),
            projects.IAMMember(
                f"{name}-replication-pubsub",
                project=self.bucket.project,
                role=TRANSFER_PROJECT_ROLE,
                member=transfer_member,
                opts=grants_opts,
            ),
            projects.IAMMember(
                f"{name}-replication-notify",
                project=self.bucket.project,
                role=NOTIFIER_PROJECT_ROLE,
                member=notifier.member,
                opts=grants_opts,
            ),
        ]
        return storage.TransferJob(
            f"{name}-replication",
            description=f"stageline: {replica.source.stage} objects into {name}",
            replication_spec={
                "gcs_data_source": {"bucket_name": source},
                "gcs_data_sink": {"bucket_name": self.bucket.name},
                "transfer_options": {
                    "delete_objects_unique_in_sink": False,
                    "overwrite_when": "DIFFERENT",
                },
            },
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=grants),
        )
