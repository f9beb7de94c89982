"""What a site's base image provides, from the manifest beside it.

`scripts/make-guest-image` writes `manifest.json` next to `disk.qcow2`: the PostgreSQL major
versions baked in, and the kernel, initrd and command line QEMU boots directly. An image with
no manifest (a site's own golden image, or the boot-sector test image) boots from its disk and
declares nothing, so nothing can be checked against it.

Pure: read by the program, the live checks and the status command alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DirectBoot:
    kernel: str
    """Path of the kernel on the machine running stageline (uploaded to the site)."""
    initrd: str
    cmdline: str


@dataclass(frozen=True)
class ImageManifest:
    path: str
    postgresql: tuple[str, ...]
    boot: DirectBoot | None


class ManifestError(ValueError):
    """The manifest exists but cannot be read: the image's builder wrote something else."""


def manifest_path(base_image: str) -> Path:
    return Path(base_image).parent / MANIFEST


def read_manifest(base_image: str) -> ImageManifest | None:
    path = manifest_path(base_image)
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text())
        folder = path.parent
        boot = None
        if raw.get("kernel"):
            boot = DirectBoot(
                kernel=str(folder / raw["kernel"]),
                initrd=str(folder / raw["initrd"]),
                cmdline=str(raw["cmdline"]),
            )
        return ImageManifest(
            path=str(path),
            postgresql=tuple(str(v) for v in raw.get("postgresql", [])),
            boot=boot,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ManifestError(f"{path}: {exc}") from exc
