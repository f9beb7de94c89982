"""PostgreSQL Flexible Server with private access only: a delegated subnet and a private DNS
zone, TLS required, HA, backups and a delete lock per the spec.

On a DR stage the server is a read replica of the primary's (`create_mode: Replica`, the
source server's resource ID), with no administrator of its own: it has the primary's, and the
application keeps using the primary's password. `stageline dr failover` promotes it; the stage
then records the role `active` and the server renders with `replication_role: None`, what
Azure reports for a promoted replica. `create_mode` and the source stay as they were: they
only matter when the server is created, and changing them would ask for a new server.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization, dbforpostgresql, privatedns, resources

from components.azure.naming import DATABASE_SUBNET, dns_label
from components.azure.resource_ids import FLEXIBLE_SERVER, parse
from components.azure.sizes import POSTGRES_SKUS, postgres_storage_gb, postgres_tier
from components.database import ADMIN_USER, Database, DatabaseArgs
from components.passwords import master_password

# Private access needs a zone under this suffix, linked to the VNet, before the server exists.
PRIVATE_ZONE_SUFFIX = "private.postgres.database.azure.com"


class AzureDatabase(Database):
    resource_group: resources.ResourceGroup
    private_zone: privatedns.PrivateZone
    server: dbforpostgresql.Server
    lock: authorization.ManagementLockByScope | None

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:database:AzureDatabase", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)
        # Deleting a resource group deletes what is in it, retained or not: the group holding
        # the data is protected and retained with the data.
        data = pulumi.ResourceOptions(
            parent=self, protect=args.protect, retain_on_delete=args.protect
        )
        sku = args.spec.sku or POSTGRES_SKUS[args.spec.size]

        self.resource_group = resources.ResourceGroup(f"{name}-rg", tags=tags, opts=data)
        rg = self.resource_group.name

        self.private_zone = privatedns.PrivateZone(
            f"{name}-dns",
            resource_group_name=rg,
            private_zone_name=f"{dns_label(name)}.{PRIVATE_ZONE_SUFFIX}",
            location="Global",
            tags=tags,
            opts=mine,
        )
        link = privatedns.VirtualNetworkLink(
            f"{name}-dns-link",
            resource_group_name=rg,
            private_zone_name=self.private_zone.name,
            location="Global",
            virtual_network={"id": args.network_id},
            registration_enabled=False,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self.private_zone),
        )

        replica = args.replica
        password: pulumi.Input[str]
        if replica is None:
            password = master_password(name, args.password, mine)
            origin: dict[str, object] = {
                "administrator_login": ADMIN_USER,
                "administrator_login_password": pulumi.Output.secret(password),
            }
        else:
            # A replica has the primary's roles: its administrator and password come with
            # the data, and the application connects with them.
            password = replica.source.replication_password
            parse(replica.source.database_id, FLEXIBLE_SERVER, "database.resourceId")
            origin = {
                "create_mode": "Replica",
                "source_server_resource_id": replica.source.database_id,
            }
            if replica.active:
                origin["replication_role"] = "None"
        # Zone-redundant HA is not offered on a read replica; once promoted, the spec's.
        high_availability = args.spec.high_availability and (replica is None or replica.active)

        self.server = dbforpostgresql.Server(
            f"{name}-pg",
            resource_group_name=rg,
            version=args.spec.engine_version,
            sku={"name": sku, "tier": postgres_tier(sku)},
            # Auto-grow would enlarge the disk behind the spec's back, and the next update (every
            # release retags the server) would then ask Azure to shrink it, which it refuses.
            # The spec owns the size; the storage alert pages before the disk fills.
            storage={
                "storage_size_gb": postgres_storage_gb(args.spec.storage_gb),
                "auto_grow": "Disabled",
            },
            auth_config={"password_auth": "Enabled", "active_directory_auth": "Disabled"},
            network={
                # The network names its delegated subnet; the network ID resolves only once
                # that subnet exists.
                "delegated_subnet_resource_id": pulumi.Output.concat(
                    args.network_id, f"/subnets/{DATABASE_SUBNET}"
                ),
                "private_dns_zone_arm_resource_id": self.private_zone.id,
                "public_network_access": "Disabled",
            },
            high_availability={"mode": "ZoneRedundant" if high_availability else "Disabled"},
            backup={
                "backup_retention_days": args.spec.backup_retention_days,
                "geo_redundant_backup": "Disabled",
            },
            data_encryption={"type": "SystemManaged"},
            tags=tags,
            **origin,  # type: ignore[arg-type]
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                retain_on_delete=args.protect,
                depends_on=[link],
            ),
        )
        server_child = pulumi.ResourceOptions(parent=self.server)
        # Clients must use TLS; the password never crosses the network in clear.
        dbforpostgresql.Configuration(
            f"{name}-require-tls",
            resource_group_name=rg,
            server_name=self.server.name,
            configuration_name="require_secure_transport",
            value="on",
            source="user-override",
            opts=server_child,
        )
        if replica is None:
            # A replica receives the primary's databases; it cannot create one.
            dbforpostgresql.Database(
                f"{name}-db",
                resource_group_name=rg,
                server_name=self.server.name,
                database_name=args.db_name,
                charset="UTF8",
                collation="en_US.utf8",
                opts=pulumi.ResourceOptions(
                    parent=self.server, protect=args.protect, retain_on_delete=args.protect
                ),
            )
        # Flexible Server has no deletion flag of its own; a CanNotDelete lock is Azure's guard.
        self.lock = (
            authorization.ManagementLockByScope(
                f"{name}-lock",
                scope=self.server.id,
                level="CanNotDelete",
                notes="stageline: database.deletionProtection",
                opts=server_child,
            )
            if args.spec.deletion_protection
            else None
        )

        self._publish(
            self.server.id,
            # Azure Monitor addresses the server by its resource ID: the alert dimension.
            self.server.id,
            self.server.fully_qualified_domain_name,
            password,
            args.db_name,
            args.spec.engine_version,
        )
