"""The stage's object store on a site: its own storage pool and a data volume in it.

Versioning and retention of objects belong to the application's store on top of the volume;
the site provides the capacity (libvirt.storageGb), protected like every data resource.

On a DR stage the volume starts as a copy of the primary site's, streamed through this machine
when the DR stage is built. A site has no continuous object replication: `stageline dr status`
shows the copy's age.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.libvirt.resources.storage import LibvirtPool, LibvirtVolume
from components.libvirt.site import LibvirtSite
from components.storage import Storage, StorageArgs

OBJECTS = "objects.qcow2"


class LibvirtStorage(Storage):
    pool: LibvirtPool
    volume: LibvirtVolume

    def __init__(
        self,
        name: str,
        args: StorageArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        site: LibvirtSite,
    ) -> None:
        super().__init__("stageline:storage:LibvirtStorage", name, None, opts)
        pool_name = f"{site.stack}-data"
        protect = pulumi.ResourceOptions(
            parent=self, protect=args.protect, retain_on_delete=args.protect
        )
        self.pool = LibvirtPool(
            f"{name}-pool",
            site.uri,
            pool_name,
            str(Path(site.settings.pool_path) / pool_name),
            protect,
        )
        volume: dict[str, pulumi.Input[object]] = {
            "uri": site.uri,
            "pool": self.pool.id,
            "name": OBJECTS,
            "format": "qcow2",
            "capacityGb": site.settings.storage_gb,
        }
        if args.replica is not None:
            source = args.replica.source
            volume["copyFrom"] = {"uri": source.site, "pool": source.bucket, "name": OBJECTS}
        self.volume = LibvirtVolume(
            f"{name}-objects",
            volume,
            pulumi.ResourceOptions.merge(protect, pulumi.ResourceOptions(depends_on=[self.pool])),
        )
        self._publish(self.pool.uuid, pool_name)
