"""One place that opens libvirt connections and turns failures into messages that say why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar
from xml.etree import ElementTree as ET

import libvirt

# libvirt prints every error to stderr by default; ours are raised with context instead.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

T = TypeVar("T")

METADATA_NS = "https://stageline.dev/xmlns/libvirt/1"
"""Marks objects stageline made, so that a re-run adopts its own objects and nobody else's."""


class LibvirtUnreachable(RuntimeError):
    def __init__(self, uri: str, cause: Exception) -> None:
        super().__init__(f"cannot reach libvirt at {uri}: {cause}")
        self.uri = uri


@contextmanager
def connect(uri: str) -> Iterator[libvirt.virConnect]:
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise LibvirtUnreachable(uri, exc) from exc
    try:
        yield conn
    finally:
        conn.close()


def not_found(exc: libvirt.libvirtError) -> bool:
    return exc.get_error_code() in (
        libvirt.VIR_ERR_NO_NETWORK,
        libvirt.VIR_ERR_NO_STORAGE_POOL,
        libvirt.VIR_ERR_NO_STORAGE_VOL,
        libvirt.VIR_ERR_NO_DOMAIN,
    )


def find(lookup: Callable[[], T]) -> T | None:
    """The object `lookup` returns, or None when libvirt has no such object."""
    try:
        return lookup()
    except libvirt.libvirtError as exc:
        if not_found(exc):
            return None
        raise


def to_xml(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode")


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def owner_mark(parent: ET.Element, stack: str, role: str = "") -> None:
    """`<metadata><stageline:owner stack=... role=.../></metadata>`, for domains (networks have
    none). The role ("app", "database") tells `stageline status` what to ask the guest."""
    metadata = sub(parent, "metadata")
    attrs = {"stack": stack, **({"role": role} if role else {})}
    ET.SubElement(metadata, f"{{{METADATA_NS}}}owner", attrs)
