"""RDS PostgreSQL in private subnets, encrypted, reachable only from the private tier."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.aws.sizes import RDS_CLASSES
from components.database import ADMIN_USER, POSTGRES_PORT, Database, DatabaseArgs
from components.dr import ReplicaPlan
from components.passwords import master_password


def major_version(engine_version: str) -> str:
    """`16` for `16` or `16.4`: PostgreSQL 10+ names majors with one number."""
    return engine_version.split(".", 1)[0]


def parameter_family(engine_version: str) -> str:
    """The RDS parameter group family of a PostgreSQL version, e.g. `postgres16`."""
    return f"postgres{major_version(engine_version)}"


class AwsDatabase(Database):
    security_group: aws.ec2.SecurityGroup
    instance: aws.rds.Instance
    key: aws.kms.Key | None = None
    """A DR replica's storage key, in its own region."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:database:AwsDatabase", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.network_id,
            description="stageline database: PostgreSQL from the private tier only",
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": POSTGRES_PORT,
                    "to_port": POSTGRES_PORT,
                    "cidr_blocks": list(args.client_cidrs),
                    "description": "PostgreSQL from private subnets",
                }
            ],
            tags={**tags, "Name": f"{name}-sg"},
            opts=mine,
        )
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=args.subnet_ids, tags=tags, opts=mine
        )
        # Upgrades in one `up`. The family follows the engine version, and a family change
        # replaces the parameter group. With a name prefix (never a fixed name) Pulumi's default
        # create-before-delete can make the new group while the old one exists; the instance
        # then moves to it, and Pulumi deletes the old group only after that update, when RDS
        # no longer refuses to delete a group in use. delete_before_replace must stay off here.
        parameters = aws.rds.ParameterGroup(
            f"{name}-params",
            name_prefix=f"{name}-pg{major_version(args.spec.engine_version)}-",
            family=parameter_family(args.spec.engine_version),
            # Clients must use TLS; the password never crosses the network in clear.
            parameters=[{"name": "rds.force_ssl", "value": "1"}],
            tags=tags,
            opts=mine,
        )
        replica = args.replica
        # A replica's administrator and password are its primary's (RDS copies the whole
        # cluster): the application keeps using them after a promotion.
        password: pulumi.Input[str] = (
            replica.source.replication_password
            if replica is not None
            else master_password(name, args.password, mine)
        )
        # Made on every stage, used where data is protected: stages keep the same resources.
        final_snapshot = self._final_snapshot_name(name)

        data_opts = pulumi.ResourceOptions(
            parent=self,
            protect=args.protect,
            retain_on_delete=args.protect,
            # Keeps the password secret in state even if a caller passes it unwrapped.
            additional_secret_outputs=["password"],
        )
        common = dict(
            engine="postgres",
            engine_version=args.spec.engine_version,
            instance_class=args.spec.sku or RDS_CLASSES[args.spec.size],
            allocated_storage=args.spec.storage_gb,
            max_allocated_storage=args.spec.storage_gb * 4,
            storage_type="gp3",
            storage_encrypted=True,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=parameters.name,
            # A major version needs explicit consent from RDS; the spec's version is that consent.
            allow_major_version_upgrade=True,
            # Version, class and parameter-group changes are applied during this `up`, not left
            # pending for the maintenance window: otherwise the instance would still use the old
            # parameter group when Pulumi deletes it, and state would claim a version not running.
            apply_immediately=True,
            publicly_accessible=False,
            multi_az=args.spec.high_availability,
            backup_retention_period=args.spec.backup_retention_days,
            deletion_protection=args.spec.deletion_protection,
            skip_final_snapshot=not args.protect,
            final_snapshot_identifier=final_snapshot if args.protect else None,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            tags=tags,
        )
        if replica is None:
            self.instance = aws.rds.Instance(
                f"{name}-pg",
                db_name=args.db_name,
                username=ADMIN_USER,
                password=pulumi.Output.secret(password),
                opts=data_opts,
                **common,
            )
        else:
            self.instance = self._replica(name, args, replica, tags, common, data_opts)

        self._publish(
            self.instance.arn,
            self.instance.identifier,
            self.instance.address,
            password,
            args.db_name,
            args.spec.engine_version,
            port=self.instance.port,
        )

    def _replica(
        self,
        name: str,
        args: DatabaseArgs,
        replica: ReplicaPlan,
        tags: dict[str, str],
        common: dict[str, Any],
        data_opts: pulumi.ResourceOptions,
    ) -> aws.rds.Instance:
        """A cross-region read replica of the primary; once the role is `active`, the same
        instance as a standalone database.

        The replica takes no name, user or password: RDS copies them from the primary, and the
        provider replaces an instance whose `username` or `db_name` changes. The only difference
        between the two roles is `replicate_source_db`: the provider promotes an instance whose
        `replicate_source_db` is removed (PromoteReadReplica) in place, and reads it back empty
        from a promoted instance, so after `stageline dr failover` has promoted it a refreshed
        `up` has nothing to change, and nothing that replaces it (same logical name, so the
        same identifier; same key).
        """
        # Encrypted cross-region replicas need a key of their own region: keys do not cross
        # regions. It holds the data, so it is protected like the instance.
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"stageline {name}: the replica database's storage",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        return aws.rds.Instance(
            f"{name}-pg",
            replicate_source_db=None if replica.active else replica.source.database_id,
            kms_key_id=self.key.arn,
            opts=data_opts,
            **common,
        )

    def _final_snapshot_name(self, name: str) -> pulumi.Output[str]:
        """A snapshot name of this instance's own: RDS keeps final snapshots after the instance
        is gone, so a fixed name would make the next destroy of a re-created stage fail."""
        suffix = random.RandomString(
            f"{name}-final-snapshot-suffix",
            length=8,
            special=False,
            upper=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return suffix.result.apply(lambda s: f"{name}-final-{s}")
