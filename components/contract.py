"""The typed outputs every stage exports and the next stage (or a DR replica) reads.

The contract is versioned `MAJOR.MINOR`. Adding keys bumps MINOR and stays readable by older
consumers; renaming or removing keys bumps MAJOR, and a consumer refuses another MAJOR rather
than deploy half-understood values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from components.environment import EnvironmentTemplate

SCHEMA_VERSION = "1.0"

# Stack output keys; a downstream stage calls require_output on these.
KEY_SCHEMA_VERSION = "schemaVersion"
KEY_STAGE = "stage"
KEY_TARGET = "target"
KEY_REGION = "region"
KEY_RELEASE = "release"
KEY_NETWORK = "network"
KEY_DATABASE = "database"
KEY_STORAGE = "storage"
KEY_OBSERVABILITY = "observability"
CONTRACT_KEYS: tuple[str, ...] = (
    KEY_SCHEMA_VERSION,
    KEY_STAGE,
    KEY_TARGET,
    KEY_REGION,
    KEY_RELEASE,
    KEY_NETWORK,
    KEY_DATABASE,
    KEY_STORAGE,
    KEY_OBSERVABILITY,
)


class ReleaseOutput(TypedDict):
    appVersion: str
    artifact: str
    templateRevision: str


class NetworkOutput(TypedDict):
    id: str
    cidr: str
    privateSubnetIds: list[str]
    publicSubnetIds: list[str]


class DatabaseOutput(TypedDict):
    resourceId: str
    """The cloud's ID of the instance (ARN, resource ID, self link): a DR replica's source."""
    endpoint: str
    port: int
    name: str
    engineVersion: str


class StorageOutput(TypedDict):
    resourceId: str
    bucket: str
    region: str


class ObservabilityOutput(TypedDict):
    logGroup: str
    alarmCount: int


@dataclass(frozen=True)
class ReleaseManifest:
    """What is promoted: the application build and the template revision that deployed it."""

    app_version: str
    artifact: str
    template_revision: str

    def to_output(self) -> ReleaseOutput:
        return {
            "appVersion": self.app_version,
            "artifact": self.artifact,
            "templateRevision": self.template_revision,
        }

    @classmethod
    def from_output(cls, raw: Any) -> ReleaseManifest:
        """Parse an upstream's `release` output; raises ValueError naming what is missing."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"release output is {type(raw).__name__}, not an object")
        missing = [k for k in ReleaseOutput.__annotations__ if not raw.get(k)]
        if missing:
            raise ValueError(f"release output lacks {', '.join(missing)}")
        return cls(str(raw["appVersion"]), str(raw["artifact"]), str(raw["templateRevision"]))


def is_compatible(schema_version: object) -> bool:
    """Same MAJOR as this template reads; any MINOR, since minors only add keys."""
    if not isinstance(schema_version, str) or "." not in schema_version:
        return False
    return schema_version.split(".", 1)[0] == SCHEMA_VERSION.split(".", 1)[0]


def contract_outputs(
    stage: str, target: str, region: str, release: ReleaseManifest, env: EnvironmentTemplate
) -> dict[str, Any]:
    """The stack outputs for one stage, under the contract's keys."""
    network: dict[str, Any] = {
        "id": env.network.network_id,
        "cidr": env.network.cidr,
        "privateSubnetIds": env.network.private_subnet_ids,
        "publicSubnetIds": env.network.public_subnet_ids,
    }
    database: dict[str, Any] = {
        "resourceId": env.database.resource_id,
        "endpoint": env.database.endpoint,
        "port": env.database.port,
        "name": env.database.db_name,
        "engineVersion": env.database.engine_version,
    }
    storage: dict[str, Any] = {
        "resourceId": env.storage.resource_id,
        "bucket": env.storage.bucket_name,
        "region": region,
    }
    observability: dict[str, Any] = {
        "logGroup": env.observability.log_group_name,
        "alarmCount": env.observability.alarm_count,
    }
    return {
        KEY_SCHEMA_VERSION: SCHEMA_VERSION,
        KEY_STAGE: stage,
        KEY_TARGET: target,
        KEY_REGION: region,
        KEY_RELEASE: release.to_output(),
        KEY_NETWORK: network,
        KEY_DATABASE: database,
        KEY_STORAGE: storage,
        KEY_OBSERVABILITY: observability,
    }
