"""What the policy pack (policy/) needs to know about GCP resources: type tokens and the input
properties (camelCase, as the engine sends them) that hold public access, firewall rules, data
protection, labels, startup scripts and sizes. SDK-free."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.gcp.grants import PERMISSIONS
from components.gcp.sizes import MACHINE_TYPES, SQL_TIERS
from policy.facts import (
    BootText,
    IngressRule,
    SizeReading,
    TargetPolicy,
    force_destroy_problems,
    reverse,
)
from policy.model import Problem, Resource
from policy.values import get, is_true, items, known, plain

SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
BUCKET = "gcp:storage/bucket:Bucket"
FIREWALL = "gcp:compute/firewall:Firewall"
INSTANCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
REGION_INSTANCE_TEMPLATE = "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate"
INSTANCE = "gcp:compute/instance:Instance"

BOOT_METADATA_KEYS = ("startup-script", "user-data")
"""Metadata keys a GCE machine runs or reads at boot (cloud-init reads `user-data`)."""


def _sql_public(resource: Resource) -> list[Problem]:
    problems: list[Problem] = []
    path = "settings.ipConfiguration.ipv4Enabled"
    if is_true(get(resource.inputs, path)):
        problems.append(
            Problem(
                path,
                True,
                "the instance gets a public IPv4 address",
                "set ipv4Enabled: false and reach it through its private network",
            )
        )
    for where, network in items(resource.inputs, "settings.ipConfiguration.authorizedNetworks"):
        value = plain(network.get("value")) if isinstance(network, dict) else None
        if value in ("0.0.0.0/0", "::/0"):
            problems.append(
                Problem(
                    f"{where}.value",
                    value,
                    "authorizes every address",
                    "remove the authorized network",
                )
            )
    return problems


def _ports(allow: dict[str, Any]) -> tuple[tuple[int, int], ...] | None:
    protocol = str(plain(allow.get("protocol", ""))).lower()
    ports = plain(allow.get("ports"))
    if protocol == "all" or not ports:
        return None  # no ports listed: every port of the protocol
    ranges: list[tuple[int, int]] = []
    for port in (str(plain(p)) for p in ports):
        low, _, high = port.partition("-")
        if low.isdigit() and (high or low).isdigit():
            ranges.append((int(low), int(high or low)))
    return tuple(ranges)


def _firewall(resource: Resource) -> list[IngressRule]:
    direction = str(plain(resource.inputs.get("direction") or "INGRESS")).upper()
    if direction != "INGRESS":
        return []
    sources = plain(resource.inputs.get("sourceRanges")) or []
    written = tuple(str(plain(s)) for s in sources)
    return [
        IngressRule(where, written, _ports(allow))
        for where, allow in items(resource.inputs, "allows")
        if isinstance(allow, dict)
    ]


def _sql_protection(resource: Resource) -> list[Problem]:
    problems: list[Problem] = []
    for path in ("deletionProtection", "settings.deletionProtectionEnabled"):
        value = get(resource.inputs, path)
        if known(value) and not is_true(value):
            problems.append(
                Problem(
                    path,
                    plain(value),
                    "production data can be deleted",
                    "set database.deletionProtection: true",
                )
            )
    backups = get(resource.inputs, "settings.backupConfiguration.enabled")
    if known(backups) and not is_true(backups):
        problems.append(
            Problem(
                "settings.backupConfiguration.enabled",
                plain(backups),
                "production data has no backups",
                "set database.backupRetentionDays (7 or more)",
            )
        )
    return problems


def _bucket_protection(resource: Resource) -> list[Problem]:
    return force_destroy_problems(resource, "set forceDestroy: false (stageline:protectData: true)")


def _boot(resource: Resource) -> list[BootText]:
    found: list[BootText] = []
    script = resource.inputs.get("metadataStartupScript")
    if script is not None and known(script):
        found.append(BootText("metadataStartupScript", script))
    for key in BOOT_METADATA_KEYS:
        # Read through `get`, which keeps a secret marker on the whole map on the entry too.
        value = get(resource.inputs, f"metadata.{key}")
        if value is not None and known(value):
            found.append(BootText(f"metadata.{key}", value))
    return found


def _shape(path: str, classes: dict[str, str]) -> Callable[[Resource], list[SizeReading]]:
    by_shape = reverse(classes)

    def read(resource: Resource) -> list[SizeReading]:
        value = plain(get(resource.inputs, path))
        if not isinstance(value, str):
            return []
        return [SizeReading(path, value, by_shape.get(value))]

    return read


LABELS: dict[str, str] = {
    "gcp:compute/globalAddress:GlobalAddress": "labels",
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": "labels",
    INSTANCE_TEMPLATE: "labels",
    REGION_INSTANCE_TEMPLATE: "labels",
    INSTANCE: "labels",
    "gcp:compute/securityPolicy:SecurityPolicy": "labels",
    "gcp:monitoring/alertPolicy:AlertPolicy": "userLabels",
    "gcp:secretmanager/secret:Secret": "labels",
    SQL_INSTANCE: "settings.userLabels",
    BUCKET: "labels",
}
"""Every labelled type the GCP template registers, and the instances a hand edit may add, with
the property holding its labels.
Checked against the installed SDK when written; a new taggable type must be added here."""

POLICY = TargetPolicy(
    public_database={SQL_INSTANCE: _sql_public},
    permissions=PERMISSIONS,
    ingress={FIREWALL: _firewall},
    data={SQL_INSTANCE: _sql_protection, BUCKET: _bucket_protection},
    tags=LABELS,
    boot={INSTANCE_TEMPLATE: _boot, REGION_INSTANCE_TEMPLATE: _boot, INSTANCE: _boot},
    sizes={
        INSTANCE_TEMPLATE: _shape("machineType", MACHINE_TYPES),
        REGION_INSTANCE_TEMPLATE: _shape("machineType", MACHINE_TYPES),
        SQL_INSTANCE: _shape("settings.tier", SQL_TIERS),
    },
    not_checked={
        "encryption-at-rest": "Google encrypts Cloud SQL, persistent disks and buckets at rest "
        "and no input turns it off (a customer key is optional)",
    },
)
