"""The typed outputs every stage exports and the next stage (or a DR replica) reads.

A pure schema: the environment fills it in (`EnvironmentTemplate.contract_outputs`), the
operator reads it back; this module imports neither.

The contract is versioned `MAJOR.MINOR`. Adding keys bumps MINOR and stays readable by older
consumers; renaming or removing keys bumps MAJOR, and a consumer refuses another MAJOR rather
than deploy half-understood values.

Values are typed `Input`: the stage that exports them holds Outputs, a stage that reads them
gets the resolved values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from pulumi import Input

SCHEMA_VERSION = "1.1"
"""1.1 added network.site, compute, ingress and replication: what a DR replica reads."""

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
KEY_COMPUTE = "compute"
KEY_INGRESS = "ingress"
KEY_REPLICATION = "replication"


class ReleaseOutput(TypedDict):
    appVersion: str
    artifact: str
    templateRevision: str


class NetworkOutput(TypedDict):
    id: Input[str]
    cidr: str
    site: str
    """Where the stage runs and is managed from: the cloud region, or the libvirt site's URI (a
    DR replica on a site adds its failover record to the primary site's network)."""
    privateSubnetIds: Input[list[str]]
    publicSubnetIds: Input[list[str]]


class DatabaseOutput(TypedDict):
    resourceId: Input[str]
    """The cloud's ID of the instance (ARN, resource ID, self link): a DR replica's source."""
    endpoint: Input[str]
    port: Input[int]
    name: str
    engineVersion: str


class StorageOutput(TypedDict):
    resourceId: Input[str]
    bucket: Input[str]
    region: str


class ComputeOutput(TypedDict):
    group: Input[str]
    minCount: int
    """What a DR replica scales to when it takes over."""


class IngressOutput(TypedDict):
    endpoint: Input[str]
    """The app's URL through the load balancer or proxy: `http://<address>[:port]/`."""
    address: Input[str]
    """Host name or IP address that a DNS record points at."""
    healthPath: str
    """Path the load balancer checks, answered by the app: `/healthz`."""


class ReplicationOutput(TypedDict):
    """Exported as a secret: the credentials a replica streams or copies with."""

    user: str
    password: Input[str]


class ObservabilityOutput(TypedDict):
    logGroup: Input[str]
    alarmCount: int


class ContractOutputs(TypedDict):
    """Every stack output of a stage, under the KEY_* names (CONTRACT_KEYS, in this order)."""

    schemaVersion: str
    stage: str
    target: str
    region: str
    release: ReleaseOutput
    network: NetworkOutput
    database: DatabaseOutput
    storage: StorageOutput
    observability: ObservabilityOutput
    compute: ComputeOutput
    ingress: IngressOutput
    replication: Input[ReplicationOutput]


CONTRACT_KEYS: tuple[str, ...] = tuple(ContractOutputs.__annotations__)


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
