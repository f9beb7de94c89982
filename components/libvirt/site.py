"""The libvirt site of one stage: its VM pool, the uploaded base image and the console-log folder.

Built before the concerns, which receive it through their target-only args.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import pulumi

from components.libvirt.image import read_manifest
from components.libvirt.resources.host_command import HostCommand
from components.libvirt.resources.storage import LibvirtPool, LibvirtVolume
from components.libvirt.settings import LibvirtSettings

LOG_ROOT = "/var/log/stageline"


DIGEST_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stageline"


def file_digest(path: str) -> str:
    """Content hash of the base image; `missing` lets an offline plan run without the file
    (a real run's preflight refuses a missing image first).

    Every `up` and preview asks for it, and a real cloud image is gigabytes: the hash is kept
    per (path, size, mtime) so an unchanged image is read once, not on every run."""
    file = Path(path)
    if not file.is_file():
        return "missing"
    stat = file.stat()
    key = hashlib.sha256(f"{file.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    cached = DIGEST_CACHE / f"{key.hexdigest()}.sha256"
    if cached.is_file():
        return cached.read_text().strip()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    with contextlib.suppress(OSError):  # a read-only home only costs the next run a re-read
        DIGEST_CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_text(digest.hexdigest())
    return digest.hexdigest()


@dataclass(frozen=True)
class SiteBoot:
    """Direct kernel boot: the kernel and initrd as volumes on the site, and the command line."""

    kernel: pulumi.Output[str]
    initrd: pulumi.Output[str]
    cmdline: str


@dataclass(frozen=True)
class SiteArgs:
    stack: str
    """Stack name; prefixes every libvirt object name. Required."""
    settings: LibvirtSettings
    """Where and how to reach the site. Required."""


class LibvirtSite(pulumi.ComponentResource):
    uri: str
    stack: str
    settings: LibvirtSettings
    pool: LibvirtPool
    pool_name: str
    base_volume: LibvirtVolume
    log_dir: str
    log_dir_ready: HostCommand
    image_digest: str
    boot: SiteBoot | None
    """None: the image boots from its disk (it declares no kernel in a manifest)."""

    def __init__(
        self, name: str, args: SiteArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:site:LibvirtSite", name, None, opts)
        s = args.settings
        self.uri = s.uri
        self.stack = args.stack
        self.settings = s
        self.pool_name = f"{args.stack}-vm"
        self.pool = LibvirtPool(
            f"{name}-pool",
            s.uri,
            self.pool_name,
            str(Path(s.pool_path) / self.pool_name),
            pulumi.ResourceOptions(parent=self),
        )
        self.image_digest = file_digest(s.base_image)
        self.base_volume = self._upload(
            f"{name}-base", f"{args.stack}-base.qcow2", "qcow2", s.base_image, self.image_digest
        )
        # The live checks read the manifest first and report a broken one.
        manifest = read_manifest(s.base_image)
        self.boot = None
        if manifest is not None and manifest.boot is not None:
            kernel = self._upload(
                f"{name}-kernel", f"{args.stack}-vmlinuz", "raw", manifest.boot.kernel
            )
            initrd = self._upload(
                f"{name}-initrd", f"{args.stack}-initrd.img", "raw", manifest.boot.initrd
            )
            self.boot = SiteBoot(kernel.path, initrd.path, manifest.boot.cmdline)
        self.log_dir = f"{LOG_ROOT}/{args.stack}"
        self.log_dir_ready = HostCommand(
            f"{name}-log-dir",
            s.uri,
            create=f"mkdir -p {shlex.quote(self.log_dir)}",
            delete=f"rm -rf {shlex.quote(self.log_dir)}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"pool_name": self.pool_name, "log_dir": self.log_dir})

    def _upload(
        self, name: str, volume: str, fmt: str, source: str, digest: str | None = None
    ) -> LibvirtVolume:
        """A file of this machine, copied into the site's VM pool."""
        return LibvirtVolume(
            name,
            {
                "uri": self.uri,
                "pool": self.pool.id,
                "name": volume,
                "format": fmt,
                "source": source,
                # A new file at the same path must replace the volume (and every VM on it).
                "sourceDigest": digest or file_digest(source),
            },
            pulumi.ResourceOptions(parent=self.pool, depends_on=[self.pool]),
        )
