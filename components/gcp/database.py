"""Cloud SQL for PostgreSQL on a private IP only (private service access), TLS required, HA,
backups and deletion protection per the spec.

On a DR stage the instance is a cross-region read replica of the primary's
(`master_instance_name`, in the same project), with no users or database of its own: they
come with the data. `stageline dr failover` promotes it; the stage then records the role
`active` and the instance renders as a standalone one: no `master_instance_name` or
`replica_configuration`, and `instance_type: CLOUD_SQL_INSTANCE`. `master_instance_name` is
otherwise a replacing change, but the provider treats exactly this change as a promotion and
updates the instance in place (its promote-replica support); on an instance the failover
already promoted, it changes nothing.
"""

from __future__ import annotations

import re

import pulumi
from pulumi_gcp import sql

from components.database import ADMIN_USER, Database, DatabaseArgs
from components.dr import ReplicaPlan
from components.gcp.naming import labels
from components.gcp.sizes import SQL_TIERS
from components.passwords import master_password

# Cloud SQL for PostgreSQL keeps transaction logs for point-in-time recovery at most 7 days.
MAX_LOG_RETENTION_DAYS = 7
_INSTANCE_LINK = re.compile(r"/projects/(?P<project>[^/]+)/instances/(?P<name>[^/?]+)$")
STANDALONE = "CLOUD_SQL_INSTANCE"
READ_REPLICA = "READ_REPLICA_INSTANCE"


def master_instance(resource_id: str) -> str:
    """The primary's instance name from its self link (the contract's database.resourceId);
    `master_instance_name` takes the name of an instance in the same project."""
    found = _INSTANCE_LINK.search(resource_id)
    if found is None:
        raise ValueError(
            f"the primary's database.resourceId is {resource_id!r}, not a Cloud SQL instance's "
            "self link (.../projects/PROJECT/instances/NAME): deploy the primary with this "
            "template, then retry"
        )
    return found["name"]


def replica_inputs(replica: ReplicaPlan | None) -> dict[str, object]:
    """What makes the instance a replica while it stands by, and standalone once active."""
    if replica is None:
        return {}
    if replica.active:
        return {"instance_type": STANDALONE}
    return {
        "instance_type": READ_REPLICA,
        "master_instance_name": master_instance(replica.source.database_id),
        # A cross-region read replica, not an HA failover target of the primary.
        "replica_configuration": {"failover_target": False},
    }


def backup_configuration(retention_days: int) -> dict[str, object]:
    if retention_days == 0:
        return {"enabled": False}
    return {
        "enabled": True,
        "start_time": "03:00",
        "point_in_time_recovery_enabled": True,
        "transaction_log_retention_days": min(retention_days, MAX_LOG_RETENTION_DAYS),
        # One automated backup a day: a count of backups is a number of days.
        "backup_retention_settings": {
            "retained_backups": retention_days,
            "retention_unit": "COUNT",
        },
    }


class GcpDatabase(Database):
    instance: sql.DatabaseInstance
    user: sql.User | None
    """None on a DR stage: the primary's users replicate."""

    def __init__(
        self,
        name: str,
        args: DatabaseArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        instance_name: str | None = None,
    ) -> None:
        """`instance_name` is `stageline:gcp.databaseInstanceName` (RFC 1035, validated).
        Default: auto-named from the component."""
        super().__init__("stageline:database:GcpDatabase", name, None, opts)
        mine = pulumi.ResourceOptions(parent=self)
        tier = args.spec.sku or SQL_TIERS[args.spec.size]

        replica = args.replica
        standby = replica is not None and not replica.active
        password: pulumi.Input[str]
        if replica is None:
            password = master_password(name, args.password, mine)
        else:
            # The primary's roles replicate: the application keeps the primary's password.
            password = replica.source.replication_password
        # A read replica keeps no backups of its own; once promoted, the spec's.
        retention = 0 if standby else args.spec.backup_retention_days

        self.instance = sql.DatabaseInstance(
            f"{name}-pg",
            name=instance_name,
            database_version=f"POSTGRES_{args.spec.engine_version}",
            **replica_inputs(replica),  # type: ignore[arg-type]
            # Pulumi's guard (refuses destroy) and the API's own (refuses deletion anywhere).
            deletion_protection=args.spec.deletion_protection,
            settings={
                "tier": tier,
                # Enterprise takes the custom and shared-core tiers the size classes map to;
                # PostgreSQL 16+ would otherwise default to Enterprise Plus.
                "edition": "ENTERPRISE",
                "availability_type": "REGIONAL" if args.spec.high_availability else "ZONAL",
                "disk_type": "PD_SSD",
                "disk_size": args.spec.storage_gb,
                "disk_autoresize": True,
                "disk_autoresize_limit": args.spec.storage_gb * 4,
                "deletion_protection_enabled": args.spec.deletion_protection,
                "ip_configuration": {
                    "ipv4_enabled": False,
                    "private_network": args.network_id,
                    "ssl_mode": "ENCRYPTED_ONLY",
                },
                "backup_configuration": backup_configuration(retention),
                "user_labels": labels(args.tags),
            },
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        child = pulumi.ResourceOptions(parent=self.instance)
        self.user = None
        self.sql_database: sql.Database | None = None
        if replica is None:
            # PostgreSQL refuses to drop a database that has connections, or a role that owns
            # objects (the application's tables): deleting them first would fail every
            # destroy. They go with the instance instead.
            self.sql_database = sql.Database(
                f"{name}-db",
                instance=self.instance.name,
                name=args.db_name,
                deletion_policy="ABANDON",
                opts=pulumi.ResourceOptions(
                    parent=self.instance, protect=args.protect, retain_on_delete=args.protect
                ),
            )
            self.user = sql.User(
                f"{name}-user",
                instance=self.instance.name,
                name=ADMIN_USER,
                password=pulumi.Output.secret(password),
                deletion_policy="ABANDON",
                opts=child,
            )

        self._publish(
            self.instance.self_link,
            # Cloud Monitoring's database_id for Cloud SQL: "<project>:<instance>".
            pulumi.Output.concat(self.instance.project, ":", self.instance.name),
            self.instance.private_ip_address,
            password,
            args.db_name,
            args.spec.engine_version,
        )
