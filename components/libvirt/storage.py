"""The stage's object store on a site: its own storage pool and a data volume in it.

Versioning and retention of objects belong to the application's store on top of the volume;
the site provides the capacity (libvirt.storageGb), protected like every data resource.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.libvirt.resources.storage import LibvirtPool, LibvirtVolume
from components.libvirt.site import LibvirtSite
from components.storage import Storage, StorageArgs


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
        self.volume = LibvirtVolume(
            f"{name}-objects",
            {
                "uri": site.uri,
                "pool": self.pool.id,
                "name": "objects.qcow2",
                "format": "qcow2",
                "capacityGb": site.settings.storage_gb,
            },
            pulumi.ResourceOptions.merge(protect, pulumi.ResourceOptions(depends_on=[self.pool])),
        )
        self._publish(self.pool.uuid, pool_name)
