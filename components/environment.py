"""EnvironmentTemplate: the concerns composed the same way on every target (and, on a DR stage,
its replica and failover routing)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.compute import AppConnection, Compute, ComputeArgs
from components.contract import (
    SCHEMA_VERSION,
    ComputeOutput,
    ContractOutputs,
    DatabaseOutput,
    IngressOutput,
    NetworkOutput,
    ObservabilityOutput,
    ReleaseManifest,
    ReplicationOutput,
    StorageOutput,
)
from components.database import Database, DatabaseArgs
from components.dr import ReplicaPlan
from components.ingress import HEALTH_PATH, Ingress, IngressArgs
from components.kit import KitSite
from components.network import Network, NetworkArgs
from components.observability import Observability, ObservabilityArgs
from components.regions import zones_of
from components.routing import RoutedSide, Routing, RoutingArgs
from components.spec import EnvironmentSpec
from components.storage import Storage, StorageArgs
from components.targets import load_kit, target_of


@dataclass(frozen=True)
class EnvironmentArgs:
    spec: EnvironmentSpec
    """Validated sizes, CIDRs, counts and flags. Required."""
    target: str
    """A registered target's name (components/targets.py). Required."""
    region: str
    """Cloud region or on-prem site. Required."""
    release: ReleaseManifest
    """What the compute group runs; also tagged on every resource. Required."""
    tags: Mapping[str, str]
    """Tags shared by every resource, e.g. the stage. Required."""
    db_password: pulumi.Input[str] | None = None
    """Database password as a Pulumi secret. Default: generated."""
    target_settings: Mapping[str, Any] | None = None
    """The stage's own `stageline:<target>` section as written, parsed by the target.
    Default none."""
    project_root: str = "."
    """Folder a `file://` release artifact's relative path is read from. Default the working
    folder."""
    replica: ReplicaPlan | None = None
    """A DR stage's primary, mode and role (components/dr.py). Default none: not a replica."""
    replica_cidrs: tuple[str, ...] = ()
    """Ranges of other stages allowed to replicate this stage's database. Default none."""


class EnvironmentTemplate(pulumi.ComponentResource):
    """One application environment: network, compute, database, storage, observability and
    ingress; on a DR stage also failover routing."""

    network: Network
    compute: Compute
    database: Database
    storage: Storage
    observability: Observability
    ingress: Ingress
    routing: Routing | None
    site: str

    def __init__(
        self, name: str, args: EnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:environment:EnvironmentTemplate", name, None, opts)
        spec = args.spec
        tags = {**args.tags, "stageline-release": args.release.app_version}
        target = target_of(args.target)
        # The target builds what it needs first (an explicit provider, a site) and binds it
        # into its factories, so every concern gets the same common args on every target.
        kit = load_kit(args.target)(
            KitSite(
                name=name,
                region=args.region,
                settings=target.validated_settings(args.target_settings),
                opts=pulumi.ResourceOptions(parent=self),
            )
        )
        child = pulumi.ResourceOptions(parent=self, providers=list(kit.providers))
        self.site = kit.site or args.region
        replica = args.replica

        self.network = kit.network(
            f"{name}-network",
            NetworkArgs(
                spec=spec.network,
                zones=zones_of(args.target, args.region)[: spec.network.zone_count],
                tags=tags,
            ),
            child,
        )
        # Data first: the application is wired to its database and bucket.
        self.database = kit.database(
            f"{name}-database",
            DatabaseArgs(
                spec=spec.database,
                network_id=self.network.network_id,
                subnet_ids=self.network.private_subnet_ids,
                client_cidrs=self.network.private_subnet_cidrs,
                protect=spec.protect_data,
                password=args.db_password,
                tags=tags,
                replica=replica,
                replica_cidrs=args.replica_cidrs,
            ),
            child,
        )
        self.storage = kit.storage(
            f"{name}-storage",
            StorageArgs(spec=spec.storage, protect=spec.protect_data, tags=tags, replica=replica),
            child,
        )
        self.compute_min_count = spec.compute.min_count
        compute_spec = spec.compute
        if replica is not None:
            # A pilot light runs no app until failover; the group itself exists.
            count = replica.compute_count(spec.compute.min_count)
            compute_spec = dataclasses.replace(
                spec.compute, min_count=count, max_count=max(spec.compute.max_count, count)
            )
        self.compute = kit.compute(
            f"{name}-compute",
            ComputeArgs(
                spec=compute_spec,
                network_id=self.network.network_id,
                subnet_ids=self.network.private_subnet_ids,
                ingress_cidr=spec.network.cidr,
                artifact=args.release.artifact,
                app_version=args.release.app_version,
                project_root=args.project_root,
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
                tags=tags,
            ),
            child,
        )
        self.observability = kit.observability(
            f"{name}-observability",
            ObservabilityArgs(
                spec=spec.observability,
                compute_group=self.compute.group_name,
                database_identifier=self.database.identifier,
                tags=tags,
            ),
            child,
        )
        self.ingress = kit.ingress(
            f"{name}-ingress",
            IngressArgs(
                spec=compute_spec,
                network_id=self.network.network_id,
                public_subnet_ids=self.network.public_subnet_ids,
                compute=self.compute,
                client_cidrs=(spec.network.cidr, *args.replica_cidrs, *spec.ingress.allowed_cidrs),
                tags=tags,
            ),
            child,
        )
        self.routing = None
        if replica is not None and replica.dns_zone:
            here = RoutedSide(
                name,
                self.ingress.address,
                args.region,
                self.site,
                self.network.network_id,
            )
            primary = RoutedSide(
                replica.source.stage,
                replica.source.ingress_address,
                replica.source.region,
                replica.source.site,
                replica.source.network_id,
            )
            preferred, fallback = (here, primary) if replica.active else (primary, here)
            self.routing = kit.routing(
                f"{name}-routing",
                RoutingArgs(replica.dns_zone, preferred, fallback, HEALTH_PATH, tags),
                child,
            )
        self.register_outputs(
            {
                "network": self.network,
                "compute": self.compute,
                "database": self.database,
                "storage": self.storage,
                "observability": self.observability,
                "ingress": self.ingress,
            }
        )

    def contract_outputs(
        self, stage: str, target: str, region: str, release: ReleaseManifest
    ) -> ContractOutputs:
        """The stack outputs for one stage, under the contract's keys."""
        network: NetworkOutput = {
            "id": self.network.network_id,
            "cidr": self.network.cidr,
            "site": self.site,
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
        compute: ComputeOutput = {
            "group": self.compute.group_name,
            "minCount": self.compute_min_count,
        }
        ingress: IngressOutput = {
            "endpoint": self.ingress.endpoint,
            "address": self.ingress.address,
            "healthPath": HEALTH_PATH,
        }
        replication = pulumi.Output.secret(
            self.database.password.apply(
                lambda pw: ReplicationOutput(user=self.database.admin_user, password=pw)
            )
        )
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
            "compute": compute,
            "ingress": ingress,
            "replication": replication,
        }
