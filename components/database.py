"""Database concern: managed PostgreSQL reachable only from the private tier."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.dr import ReplicaPlan
from components.spec import DatabaseSpec

POSTGRES_PORT = 5432
ADMIN_USER = "stageline"
"""The database's administrator, which the application also connects as."""


@dataclass(frozen=True)
class DatabaseArgs:
    spec: DatabaseSpec
    """The validated `database` section: version, size or sku, storage, HA, backups and
    deletion protection. Required."""
    network_id: pulumi.Input[str]
    """Network the database lives in. Required."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets for the database. Required."""
    client_cidrs: tuple[str, ...]
    """Ranges allowed to reach the database port: the private tier, never 0.0.0.0/0. Required."""
    protect: bool = False
    """Pulumi `protect` + `retain_on_delete` on the data resource. Default off."""
    password: pulumi.Input[str] | None = None
    """Master password, a Pulumi secret. Default: generated with pulumi-random."""
    db_name: str = "app"
    """Database created on the instance. Default `app`."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""
    replica: ReplicaPlan | None = None
    """On a DR stage: the primary to replicate and the recorded role. While `standby` the
    database is a replica of `replica.source.database_id`; once `active` it renders as a
    standalone instance (already promoted by `stageline dr failover`). Default none."""
    replica_cidrs: tuple[str, ...] = ()
    """Ranges of other stages allowed to replicate from this database (its DR replicas, and a
    DR replica's primary for a failback). Default none."""


class Database(pulumi.ComponentResource, ABC):
    resource_id: pulumi.Output[str]
    identifier: pulumi.Output[str]
    """Instance name, the dimension monitoring uses."""
    endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    admin_user: str = ADMIN_USER
    password: pulumi.Output[str]
    """The administrator's password, a Pulumi secret; compute hands it to the application
    through the target's secret store, never in plain user data."""
    db_name: str
    engine_version: str

    def _publish(
        self,
        resource_id: pulumi.Input[str],
        identifier: pulumi.Input[str],
        endpoint: pulumi.Input[str],
        password: pulumi.Input[str],
        db_name: str,
        engine_version: str,
        port: pulumi.Input[int] = POSTGRES_PORT,
    ) -> None:
        """Set the outputs every target's database has, and register them under the same keys.

        Called last by each target; the password stays a secret whatever it was given as.
        """
        self.resource_id = pulumi.Output.from_input(resource_id)
        self.identifier = pulumi.Output.from_input(identifier)
        self.endpoint = pulumi.Output.from_input(endpoint)
        self.port = pulumi.Output.from_input(port)
        self.password = pulumi.Output.secret(password)
        self.db_name = db_name
        self.engine_version = engine_version
        self.register_outputs(
            {
                "resource_id": self.resource_id,
                "identifier": self.identifier,
                "endpoint": self.endpoint,
                "port": self.port,
                "db_name": self.db_name,
                "engine_version": self.engine_version,
            }
        )
