"""Directory storage pools and the volumes in them: uploaded images, overlays, blank disks."""

from __future__ import annotations

import os
import tempfile
from typing import Any
from xml.etree import ElementTree as ET

import libvirt
import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

from components.libvirt.cloudinit import seed_iso
from components.libvirt.resources.connection import connect, find, sub, to_xml

CHUNK = 1 << 20
GIB = 1 << 30


def pool_xml(name: str, path: str) -> str:
    root = ET.Element("pool", type="dir")
    sub(root, "name", name)
    target = sub(root, "target")
    sub(target, "path", path)
    return to_xml(root)


class PoolProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        with connect(props["uri"]) as conn:
            pool = find(lambda: conn.storagePoolLookupByName(props["name"]))
            if pool is None:
                pool = conn.storagePoolDefineXML(pool_xml(props["name"], props["path"]))
                # Makes the stage's own folder under the existing pool path.
                pool.build(0)
            if not pool.isActive():
                pool.create()
            pool.setAutostart(1)
            return CreateResult(props["name"], {**props, "uuid": pool.UUIDString()})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with connect(props["uri"]) as conn:
            pool = find(lambda: conn.storagePoolLookupByName(id_))
            if pool is None:
                return ReadResult(None, {})
            return ReadResult(id_, {**props, "uuid": pool.UUIDString()})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("uri", "name", "path") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with connect(props["uri"]) as conn:
            pool = find(lambda: conn.storagePoolLookupByName(id_))
            if pool is None:
                return
            if not pool.isActive():
                pool.create()
            pool.refresh(0)
            retained = pool.listAllVolumes()
            pool.destroy()
            # Volumes are resources of their own, deleted before the pool. One still here was
            # retained on purpose (a protected stage's data): keep its folder and files.
            if not retained:
                pool.delete(0)
            pool.undefine()


class LibvirtPool(Resource, module="libvirt", name="Pool"):
    uuid: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        uri: str,
        name: str,
        path: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            PoolProvider(),
            resource_name,
            {"uri": uri, "name": name, "path": path, "uuid": None},
            opts,
        )


def volume_xml(name: str, capacity: int, fmt: str, backing: tuple[str, str] | None) -> str:
    root = ET.Element("volume")
    sub(root, "name", name)
    sub(root, "capacity", str(capacity), unit="bytes")
    target = sub(root, "target")
    sub(target, "format", type=fmt)
    if backing is not None:
        store = sub(root, "backingStore")
        sub(store, "path", backing[0])
        sub(store, "format", type=backing[1])
    return to_xml(root)


def upload(
    conn: libvirt.virConnect, vol: libvirt.virStorageVol, data: bytes | None, path: str | None
) -> None:
    """Stream bytes into a volume: works the same over a local socket and qemu+ssh."""
    stream = conn.newStream(0)
    size = len(data) if data is not None else os.path.getsize(path or "")
    vol.upload(stream, 0, size, 0)
    if data is not None:
        view = memoryview(data)
        for offset in range(0, size, CHUNK):
            stream.send(bytes(view[offset : offset + CHUNK]))
    else:
        with open(path or "", "rb") as handle:
            while chunk := handle.read(CHUNK):
                stream.send(chunk)
    stream.finish()


def download(uri: str, pool: str, name: str, into: str) -> None:
    """Stream a volume of another site (or pool) into a local file."""
    with connect(uri) as conn:
        vol = conn.storagePoolLookupByName(pool).storageVolLookupByName(name)
        stream = conn.newStream(0)
        vol.download(stream, 0, 0, 0)
        with open(into, "wb") as handle:
            while chunk := stream.recv(CHUNK):
                if isinstance(chunk, int):  # -2: would block, on a non-blocking stream only
                    continue
                handle.write(chunk)
        stream.finish()


class VolumeProvider(ResourceProvider):
    """Inputs: uri, pool, name, format, and one of source (local file), copyFrom ({uri, pool,
    name}: a volume of another site, copied through this machine), cloudInit ({hostname,
    userData}: a NoCloud seed built here), backing (path of a volume to overlay), or capacityGb.

    The seed is built inside the provider from its text, so that the text (deterministic) and
    not the ISO bytes (timestamped) decides whether anything changed."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        with connect(props["uri"]) as conn:
            # No pool refresh here: volumes of one pool are created in parallel, and libvirt
            # refuses a refresh while another volume's upload runs; it tracks its own volumes.
            pool = conn.storagePoolLookupByName(props["pool"])
            # A volume left by an interrupted run is ours (the pool is the stage's own).
            leftover = find(lambda: pool.storageVolLookupByName(props["name"]))
            if leftover is not None:
                leftover.delete(0)
            seed = props.get("cloudInit")
            data = seed_iso(seed["hostname"], seed["userData"]) if seed else None
            source = props.get("source")
            copy = props.get("copyFrom")
            if copy:
                handle, source = tempfile.mkstemp(prefix="stageline-copy-")
                os.close(handle)
                download(copy["uri"], copy["pool"], copy["name"], source)
            backing = props.get("backing")
            if data is not None:
                capacity = len(data)
            elif source:
                capacity = os.path.getsize(source)
            elif backing:
                base = conn.storageVolLookupByPath(backing)
                capacity = max(base.info()[1], int(props.get("capacityGb") or 0) * GIB)
            else:
                capacity = int(props["capacityGb"]) * GIB
            xml = volume_xml(
                props["name"], capacity, props["format"], (backing, "qcow2") if backing else None
            )
            vol = pool.createXML(xml, 0)
            if data is not None or source:
                # libvirt re-reads the volume (a qcow2's virtual size) when the upload ends.
                upload(conn, vol, data, source)
            if copy:
                os.unlink(source or "")
            vol = pool.storageVolLookupByName(props["name"])
            return CreateResult(vol.key(), {**props, "path": vol.path(), "capacity": vol.info()[1]})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with connect(props["uri"]) as conn:
            vol = find(lambda: conn.storageVolLookupByKey(id_))
            if vol is None:
                return ReadResult(None, {})
            return ReadResult(id_, {**props, "path": vol.path(), "capacity": vol.info()[1]})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = (
            "uri",
            "pool",
            "name",
            "format",
            "source",
            "sourceDigest",
            "copyFrom",
            "cloudInit",
            "backing",
            "capacityGb",
            # A VM's root disk is made afresh with the VM (components/libvirt/vm.py).
            "revision",
        )
        replaces = [k for k in keys if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with connect(props["uri"]) as conn:
            vol = find(lambda: conn.storageVolLookupByKey(id_))
            if vol is not None:
                vol.delete(0)


class LibvirtVolume(Resource, module="libvirt", name="Volume"):
    path: pulumi.Output[str]
    capacity: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        props: dict[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            VolumeProvider(), resource_name, {**props, "path": None, "capacity": None}, opts
        )
