"""What a GCE machine family needs from its boot disk and image. Imports no GCP SDK.

The newest series attach Hyperdisk only: an instance template with a `pd-*` boot disk for them
is accepted and then fails when the group creates instances. Arm series need an arm64 image.
"""

from __future__ import annotations

HYPERDISK_ONLY_FAMILIES = frozenset(
    {"c4", "c4a", "c4d", "n4", "n4a", "n4d", "m4", "x4", "h4d", "a4", "a4x"}
)
"""Machine series whose boot disk must be Hyperdisk (GCE "Machine series and disk types")."""
HYPERDISK_ONLY_SHAPES = ("a3-ultragpu-",)
"""Shapes of an otherwise Persistent Disk series that take Hyperdisk only."""
ARM_FAMILIES = frozenset({"c4a", "n4a", "t2a", "a4x"})
"""Axion and Ampere series: arm64 only."""

PERSISTENT_BOOT_DISK = "pd-balanced"
HYPERDISK_BOOT_DISK = "hyperdisk-balanced"
# Container-Optimized OS: docker preinstalled, read-only root, patched by the image family.
COS_IMAGE = "projects/cos-cloud/global/images/family/cos-stable"
COS_ARM_IMAGE = "projects/cos-cloud/global/images/family/cos-arm64-stable"


def family(machine_type: str) -> str:
    """`n4-standard-4` -> `n4`; custom types (`n2-custom-4-8192`) keep their series."""
    return machine_type.split("-", 1)[0]


def boot_disk_type(machine_type: str) -> str:
    """The boot disk type `machine_type` can attach: Hyperdisk Balanced or PD Balanced."""
    if family(machine_type) in HYPERDISK_ONLY_FAMILIES or machine_type.startswith(
        HYPERDISK_ONLY_SHAPES
    ):
        return HYPERDISK_BOOT_DISK
    return PERSISTENT_BOOT_DISK


def boot_image(machine_type: str) -> str:
    """The Container-Optimized OS image family for the machine's architecture."""
    return COS_ARM_IMAGE if family(machine_type) in ARM_FAMILIES else COS_IMAGE
