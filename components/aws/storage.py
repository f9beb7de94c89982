"""S3 bucket: encrypted, private, TLS-only, versioned per the spec."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.dr import ReplicaPlan
from components.errors import ConfigIssue, raise_if_any
from components.storage import Storage, StorageArgs


def tls_only_policy(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def replication_assume_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def replication_policy(
    source_arn: str, source_region: str, destination_arn: str, key_arn: str
) -> str:
    """Least privilege for S3 to copy the primary's objects into the DR bucket.

    The primary's objects are encrypted with its region's `aws/s3` key, whose own policy lets
    the account's principals use it through S3; the statement here narrows the role to
    decrypting through S3 in that region, for that bucket only (with S3 Bucket Keys the
    encryption context is the bucket's ARN, else the object's).
    """
    key_region = key_arn.split(":")[3]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "SourceBucket",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": source_arn,
        },
        {
            "Sid": "SourceObjects",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": f"{source_arn}/*",
        },
        {
            "Sid": "DestinationObjects",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": f"{destination_arn}/*",
        },
        {
            "Sid": "DecryptSource",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [source_arn, f"{source_arn}/*"]},
            },
        },
        {
            "Sid": "EncryptReplicas",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{key_region}.amazonaws.com"},
                "StringLike": {
                    "kms:EncryptionContext:aws:s3:arn": [destination_arn, f"{destination_arn}/*"]
                },
            },
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def replica_key_policy(role_arn: str) -> str:
    """The DR bucket's key: the account administers it, and, like the `aws/s3` key it stands in
    for, any principal of the account may use it through S3 in this region, so the app's role
    reads replicated objects after a failover without a grant of its own (the key is regional:
    S3 of its own region is the only S3 that can use it)."""
    partition, account = role_arn.split(":")[1], role_arn.split(":")[4]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "AccountUsesThroughS3",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:CallerAccount": account},
                        "StringLike": {"kms:ViaService": "s3.*.amazonaws.com"},
                    },
                },
            ],
        }
    )


def validate_replica(args: StorageArgs) -> None:
    """S3 replicates only between versioned buckets: the DR bucket's own spec must say so (the
    primary's bucket is versioned by its spec; S3 refuses the rule otherwise)."""
    if args.replica is not None and not args.spec.versioning:
        raise_if_any(
            [
                ConfigIssue(
                    "storage.versioning",
                    args.spec.versioning,
                    "S3 replicates objects only into a versioned bucket",
                    "set storage.versioning: true on the DR stage (and on its primary)",
                )
            ],
            "the DR stage's storage",
        )


class AwsStorage(Storage):
    bucket: aws.s3.Bucket
    public_access_block: aws.s3.BucketPublicAccessBlock
    versioning: aws.s3.BucketVersioning
    """Replication (DR) must depend on it: S3 refuses replication to unversioned buckets."""
    lifecycle: aws.s3.BucketLifecycleConfiguration
    key: aws.kms.Key | None = None
    """A DR bucket's key, in its own region: replicas of SSE-KMS objects need one named."""
    replication_role: aws.iam.Role | None = None
    primary_provider: aws.Provider | None = None
    """The primary's region, where the replication rule lives on the primary's bucket."""
    replication: aws.s3.BucketReplicationConfig | None = None

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:storage:AwsStorage", name, None, opts)
        validate_replica(args)
        tags = dict(args.tags or {})
        replica = args.replica
        if replica is not None:
            # The role comes first: the key's policy names the account from its ARN.
            self.replication_role = aws.iam.Role(
                f"{name}-replication",
                assume_role_policy=replication_assume_policy(),
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.key = aws.kms.Key(
                f"{name}-key",
                description=f"stageline {name}: the DR bucket's objects",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=self.replication_role.arn.apply(replica_key_policy),
                tags=tags,
                opts=pulumi.ResourceOptions(
                    parent=self, protect=args.protect, retain_on_delete=args.protect
                ),
            )

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            # An unprotected (ephemeral) stage must be destroyable with objects still in it.
            force_destroy=not args.protect,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        child = pulumi.ResourceOptions(parent=self.bucket)
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": self._default_encryption(),
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled" if args.spec.versioning else "Suspended"},
            opts=child,
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "expire-noncurrent",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": args.spec.retention_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            # S3 rejects lifecycle rules on a bucket whose versioning state is still changing.
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[self.versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(tls_only_policy),
            # A policy put before the public-access block exists can be refused as public.
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[self.public_access_block]),
        )

        if replica is not None:
            self._replicate(name, replica, tags)

        self._publish(self.bucket.arn, self.bucket.bucket)

    def _default_encryption(self) -> dict[str, Any]:
        """SSE-KMS with the AWS managed `aws/s3` key, or a DR bucket's own key."""
        if self.key is None:
            return {"sse_algorithm": "aws:kms"}
        return {"sse_algorithm": "aws:kms", "kms_master_key_id": self.key.arn}

    def _replicate(self, name: str, replica: ReplicaPlan, tags: dict[str, str]) -> None:
        """The replication rule on the primary's bucket, owned by this (DR) stack.

        It is made through a provider in the primary's region, after this bucket's versioning;
        the primary's versioning is the primary stack's (its spec's `storage.versioning: true`):
        S3 refuses the rule on an unversioned source bucket with a message naming it.
        """
        assert self.key is not None and self.replication_role is not None
        source = replica.source
        self.primary_provider = aws.Provider(
            f"{name}-primary-region",
            region=source.region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-replication-access",
            role=self.replication_role.id,
            policy=pulumi.Output.all(self.bucket.arn, self.key.arn).apply(
                lambda a: replication_policy(source.storage_id, source.region, a[0], a[1])
            ),
            opts=pulumi.ResourceOptions(parent=self.replication_role),
        )
        self.replication = aws.s3.BucketReplicationConfig(
            f"{name}-replication-rule",
            bucket=source.bucket,
            role=self.replication_role.arn,
            rules=[
                {
                    "id": f"stageline-dr-{name}",
                    "status": "Enabled",
                    # The whole bucket; an empty filter makes it a V2 rule, which delete marker
                    # replication needs.
                    "filter": {},
                    "delete_marker_replication": {"status": "Enabled"},
                    # The primary's objects are SSE-KMS: S3 skips them unless told to replicate
                    # them and which key of this region encrypts the copies.
                    "source_selection_criteria": {
                        "sse_kms_encrypted_objects": {"status": "Enabled"}
                    },
                    "destination": {
                        "bucket": self.bucket.arn,
                        "storage_class": "STANDARD",
                        "encryption_configuration": {"replica_kms_key_id": self.key.arn},
                    },
                }
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=self.primary_provider,
                depends_on=[self.versioning, role_policy],
            ),
        )
