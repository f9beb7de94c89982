"""Disaster-recovery operations on GCP (components/dr_ops.py).

Replica lag, promotion, scaling and the failover record are Google API calls (Cloud SQL Admin,
Compute Engine, Cloud DNS). No Google Cloud project or emulator for Cloud SQL or Cloud DNS
exists where stageline is tested, so they could not be tested honestly: each refuses with the
reason and the command that does the same by hand. Only the ingress health check, a plain HTTP
request, runs here.
"""

from __future__ import annotations

from typing import Any

from components.dr_ops import (
    DrSides,
    IngressHealth,
    Marker,
    OperationUnavailable,
    ReplicationState,
    StackView,
    http_health,
)
from components.ingress import HEALTH_PATH

UNTESTED = (
    "stageline has no Google Cloud project or emulator to test this against, so it does not "
    "call the Google API for it"
)


PROBE_TIMEOUT_SECONDS = 5.0


def _field(view: StackView, *path: str) -> str:
    value: Any = view.outputs
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return str(value) if value else f"<{'.'.join(path)} of {view.stack}>"


def _instance(view: StackView) -> str:
    """The Cloud SQL instance name, the last part of its self link."""
    return _field(view, "database", "resourceId").rstrip("/").rsplit("/", 1)[-1]


def _refuse(what: str, instead: str) -> OperationUnavailable:
    return OperationUnavailable(f"GCP: {what}: {UNTESTED}. Instead: {instead}")


class GcpOperations:
    def replication(self, sides: DrSides) -> ReplicationState:
        raise _refuse(
            "reading the replica's lag",
            f"gcloud sql instances describe {_instance(sides.replica)} and the Cloud Monitoring "
            "metric cloudsql.googleapis.com/database/replication/replica_lag",
        )

    def promote(self, sides: DrSides) -> None:
        raise _refuse(
            "promoting the replica",
            f"gcloud sql instances promote-replica {_instance(sides.replica)}, then record the "
            "role: stageline:disasterRecovery.role active",
        )

    def scale(self, view: StackView, count: int) -> None:
        group = _field(view, "compute", "group")
        raise _refuse(
            f"scaling {view.stack} to {count}",
            f"gcloud compute instance-groups managed resize {group} --size {count} --region "
            f"{view.region}, or let the next `up` of the stage with its role recorded active "
            "do it",
        )

    def route(self, sides: DrSides, to: StackView) -> None:
        raise _refuse(
            f"routing to {to.stack}",
            "set the role, then `up` the DR stage: its Cloud DNS record makes "
            f"{to.stack}'s ingress the primary target (or gcloud dns record-sets update with "
            "--routing-policy-type FAILOVER)",
        )

    def ingress_health(self, view: StackView) -> IngressHealth:
        return http_health(_field(view, "ingress", "endpoint"), HEALTH_PATH)

    def write_marker(self, view: StackView, name: str) -> Marker:
        raise _refuse(
            f"writing the marker {name} into {view.stack}",
            "insert a row into the primary's database and upload an object into its bucket "
            "(gcloud storage cp), then compare on the replica",
        )

    def read_marker(self, view: StackView, name: str) -> Marker | None:
        raise _refuse(
            f"reading the marker {name} in {view.stack}",
            "query the row on the promoted instance and list the object in the DR bucket",
        )


OPERATIONS = GcpOperations()
