"""Disaster-recovery operations on Azure (components/dr_ops.py).

Replica lag, promotion, scaling and the Traffic Manager switch are Azure API calls
(azure-mgmt-postgresqlflexibleservers, -compute, -trafficmanager). No Azure account or emulator
for Flexible Server or Traffic Manager exists where stageline is tested, so they could not be
tested honestly: each refuses with the reason and the command that does the same by hand.
Only the ingress health check, a plain HTTP request, runs here.
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
    "stageline has no Azure account or emulator to test this against, so it does not call "
    "the Azure API for it"
)


PROBE_TIMEOUT_SECONDS = 5.0


def _field(view: StackView, *path: str) -> str:
    value: Any = view.outputs
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return str(value) if value else f"<{'.'.join(path)} of {view.stack}>"


def _refuse(what: str, instead: str) -> OperationUnavailable:
    return OperationUnavailable(f"Azure: {what}: {UNTESTED}. Instead: {instead}")


class AzureOperations:
    def replication(self, sides: DrSides) -> ReplicationState:
        server = _field(sides.replica, "database", "resourceId")
        raise _refuse(
            "reading the replica's lag",
            f"az postgres flexible-server replica list --ids {server} and the Azure Monitor "
            "metric physical_replication_delay_in_seconds of the replica",
        )

    def promote(self, sides: DrSides) -> None:
        server = _field(sides.replica, "database", "resourceId")
        raise _refuse(
            "promoting the replica",
            f"az postgres flexible-server replica promote --ids {server} "
            "--promote-mode standalone --promote-option planned (forced if the primary is "
            "lost), then record the role: stageline:disasterRecovery.role active",
        )

    def scale(self, view: StackView, count: int) -> None:
        group = _field(view, "compute", "group")
        raise _refuse(
            f"scaling {view.stack} to {count}",
            f"az vmss scale --ids {group} --new-capacity {count}, or let the next `up` of the "
            "stage with its role recorded active do it",
        )

    def route(self, sides: DrSides, to: StackView) -> None:
        raise _refuse(
            f"routing to {to.stack}",
            "set the role, then `up` the DR stage: its Traffic Manager profile gives "
            f"{to.stack}'s endpoint priority 1 (or az network traffic-manager endpoint update "
            "--type externalEndpoints --priority 1 on that endpoint)",
        )

    def ingress_health(self, view: StackView) -> IngressHealth:
        return http_health(_field(view, "ingress", "endpoint"), HEALTH_PATH)

    def write_marker(self, view: StackView, name: str) -> Marker:
        raise _refuse(
            f"writing the marker {name} into {view.stack}",
            "insert a row into the primary's database and upload a blob into its container "
            "(az storage blob upload), then compare on the replica",
        )

    def read_marker(self, view: StackView, name: str) -> Marker | None:
        raise _refuse(
            f"reading the marker {name} in {view.stack}",
            "query the row on the promoted server and list the blob in the DR container",
        )


OPERATIONS = AzureOperations()
