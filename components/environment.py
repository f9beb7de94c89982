"""EnvironmentTemplate: the five concerns composed the same way on every target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.compute import AppConnection, Compute, ComputeArgs
from components.contract import (
    SCHEMA_VERSION,
    ContractOutputs,
    DatabaseOutput,
    NetworkOutput,
    ObservabilityOutput,
    ReleaseManifest,
    StorageOutput,
)
from components.database import Database, DatabaseArgs
from components.network import Network, NetworkArgs
from components.observability import Observability, ObservabilityArgs
from components.regions import zones_of
from components.spec import EnvironmentSpec
from components.storage import Storage, StorageArgs
from components.targets import load_target


@dataclass(frozen=True)
class EnvironmentArgs:
    spec: EnvironmentSpec
    """Validated sizes, CIDRs, counts and flags. Required."""
    target: str
    """`aws`, `azure`, `gcp` or `libvirt`. Required."""
    region: str
    """Cloud region or on-prem site. Required."""
    release: ReleaseManifest
    """What the compute group runs; also tagged on every resource. Required."""
    tags: Mapping[str, str]
    """Tags shared by every resource, e.g. the stage. Required."""
    db_password: pulumi.Input[str] | None = None
    """Database password as a Pulumi secret. Default: generated."""
    target_settings: Mapping[str, Any] = field(default_factory=dict)
    """The stage's target-only section (e.g. `stageline:libvirt`). Default empty."""


class EnvironmentTemplate(pulumi.ComponentResource):
    """One application environment: network, compute, database, storage and observability."""

    network: Network
    compute: Compute
    database: Database
    storage: Storage
    observability: Observability

    def __init__(
        self, name: str, args: EnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:environment:EnvironmentTemplate", name, None, opts)
        kit = load_target(args.target)
        spec = args.spec
        tags = {**args.tags, "stageline-release": args.release.app_version}

        mine = pulumi.ResourceOptions(parent=self)
        # An explicit provider pins the region in code instead of ambient config or env.
        providers = [kit.provider(f"{name}-provider", args.region, mine)] if kit.provider else []
        child = pulumi.ResourceOptions(parent=self, providers=providers)
        site = kit.site(f"{name}-site", name, args.target_settings, mine) if kit.site else None

        def targeted(common: Any) -> Any:
            # Target-only args extend the common ones (a libvirt concern also gets its site).
            return kit.extend(common, site) if kit.extend else common

        self.network = kit.network(
            f"{name}-network",
            targeted(
                NetworkArgs(
                    cidr=spec.network.cidr,
                    zones=zones_of(args.target, args.region)[: spec.network.zone_count],
                    nat=spec.network.nat,
                    tags=tags,
                )
            ),
            child,
        )
        # Data first: the application is wired to its database and bucket.
        self.database = kit.database(
            f"{name}-database",
            targeted(
                DatabaseArgs(
                    engine_version=spec.database.engine_version,
                    size=spec.database.size,
                    storage_gb=spec.database.storage_gb,
                    network_id=self.network.network_id,
                    subnet_ids=self.network.private_subnet_ids,
                    client_cidrs=self.network.private_subnet_cidrs,
                    high_availability=spec.database.high_availability,
                    backup_retention_days=spec.database.backup_retention_days,
                    deletion_protection=spec.database.deletion_protection,
                    protect=spec.protect_data,
                    password=args.db_password,
                    sku=spec.database.sku,
                    instance_name=spec.database.instance_name,
                    tags=tags,
                )
            ),
            child,
        )
        self.storage = kit.storage(
            f"{name}-storage",
            targeted(
                StorageArgs(
                    versioning=spec.storage.versioning,
                    retention_days=spec.storage.retention_days,
                    protect=spec.protect_data,
                    account_name=spec.storage.account_name,
                    tags=tags,
                )
            ),
            child,
        )
        self.compute = kit.compute(
            f"{name}-compute",
            targeted(
                ComputeArgs(
                    size=spec.compute.size,
                    min_count=spec.compute.min_count,
                    max_count=spec.compute.max_count,
                    network_id=self.network.network_id,
                    subnet_ids=self.network.private_subnet_ids,
                    ingress_cidr=spec.network.cidr,
                    artifact=args.release.artifact,
                    app_port=spec.compute.app_port,
                    target_cpu_percent=spec.compute.target_cpu_percent,
                    app=AppConnection(
                        database_host=self.database.endpoint,
                        database_port=self.database.port,
                        database_name=self.database.db_name,
                        database_user=self.database.admin_user,
                        database_password=self.database.password,
                        database_id=self.database.resource_id,
                        bucket_name=self.storage.bucket_name,
                        bucket_id=self.storage.resource_id,
                    ),
                    egress=self.network.egress,
                    sku=spec.compute.sku,
                    tags=tags,
                )
            ),
            child,
        )
        self.observability = kit.observability(
            f"{name}-observability",
            targeted(
                ObservabilityArgs(
                    compute_group=self.compute.group_name,
                    database_identifier=self.database.identifier,
                    log_retention_days=spec.observability.log_retention_days,
                    alarms=spec.observability.alarms,
                    cpu_alarm_percent=spec.observability.cpu_alarm_percent,
                    tags=tags,
                )
            ),
            child,
        )
        self.register_outputs(
            {
                "network": self.network,
                "compute": self.compute,
                "database": self.database,
                "storage": self.storage,
                "observability": self.observability,
            }
        )

    def contract_outputs(
        self, stage: str, target: str, region: str, release: ReleaseManifest
    ) -> ContractOutputs:
        """The stack outputs for one stage, under the contract's keys."""
        network: NetworkOutput = {
            "id": self.network.network_id,
            "cidr": self.network.cidr,
            "privateSubnetIds": self.network.private_subnet_ids,
            "publicSubnetIds": self.network.public_subnet_ids,
        }
        database: DatabaseOutput = {
            "resourceId": self.database.resource_id,
            "endpoint": self.database.endpoint,
            "port": self.database.port,
            "name": self.database.db_name,
            "engineVersion": self.database.engine_version,
        }
        storage: StorageOutput = {
            "resourceId": self.storage.resource_id,
            "bucket": self.storage.bucket_name,
            "region": region,
        }
        observability: ObservabilityOutput = {
            "logGroup": self.observability.log_group_name,
            "alarmCount": self.observability.alarm_count,
        }
        return {
            "schemaVersion": SCHEMA_VERSION,
            "stage": stage,
            "target": target,
            "region": region,
            "release": release.to_output(),
            "network": network,
            "database": database,
            "storage": storage,
            "observability": observability,
        }
