"""Database concern: managed PostgreSQL reachable only from the private tier."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

POSTGRES_PORT = 5432
ADMIN_USER = "stageline"
"""The database's administrator, which the application also connects as."""


@dataclass(frozen=True)
class DatabaseArgs:
    engine_version: str
    """PostgreSQL major version. Required."""
    size: str
    """Abstract size class. Required."""
    storage_gb: int
    """Allocated storage in GiB. Required."""
    network_id: pulumi.Input[str]
    """Network the database lives in. Required."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets for the database. Required."""
    client_cidrs: tuple[str, ...]
    """Ranges allowed to reach the database port: the private tier, never 0.0.0.0/0. Required."""
    high_availability: bool = False
    """Standby in a second zone. Default off."""
    backup_retention_days: int = 1
    """Days of automated backups. Default 1."""
    deletion_protection: bool = False
    """The cloud's deletion guard. Default off."""
    protect: bool = False
    """Pulumi `protect` + `retain_on_delete` on the data resource. Default off."""
    password: pulumi.Input[str] | None = None
    """Master password, a Pulumi secret. Default: generated with pulumi-random."""
    db_name: str = "app"
    """Database created on the instance. Default `app`."""
    sku: str | None = None
    """The target's own database class in place of `size`, already validated. Default none."""
    instance_name: str | None = None
    """The instance's name where the target lets stageline choose it (GCP). Default derived."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""


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
