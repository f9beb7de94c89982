"""A release's artifact: an OCI image reference, or `file://PATH`, a release on this machine.

A file release is a folder, or a .tar.gz of one, whose top level has an executable `start`
that serves the application on $PORT. A relative PATH is relative to the project, like every
other path in a stack file. Only targets that copy the release into their machines take one
(the libvirt target uploads it in the guests' seed); a cloud machine pulls an image.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

from components.errors import ConfigIssue

FILE_SCHEME = "file://"
KEY = "release.artifact"
ENTRY_POINT = "start"


def local_path(artifact: str, root: Path) -> Path | None:
    """The file a `file://` artifact names, resolved against the project; None for an image."""
    if not artifact.startswith(FILE_SCHEME):
        return None
    # Joining an absolute path keeps it as it is.
    return root / artifact.removeprefix(FILE_SCHEME)


def images_only(artifact: str, root: Path) -> list[ConfigIssue]:
    """The check of targets whose machines pull an image: a file release cannot reach them."""
    if local_path(artifact, root) is None:
        return []
    return [
        ConfigIssue(
            KEY,
            artifact,
            "is a file on this machine, which this target's machines cannot run",
            "build an OCI image of the release, push it to a registry and use its reference",
        )
    ]


def file_or_image(artifact: str, root: Path) -> list[ConfigIssue]:
    """The check of targets that upload a file release: it must exist and have its `start`."""
    path = local_path(artifact, root)
    if path is None:
        return []
    if path.is_dir():
        start = path / ENTRY_POINT
        if start.is_file() and os.access(start, os.X_OK):
            return []
        problem = f"has no executable {ENTRY_POINT} at its top level ({start})"
    elif path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        return []
    elif path.exists():
        problem = f"is neither a folder nor a .tar.gz ({path})"
    else:
        problem = f"does not exist ({path})"
    return [
        ConfigIssue(
            KEY,
            artifact,
            problem,
            f"point it at a folder or .tar.gz whose top level has an executable `{ENTRY_POINT}`"
            " (e.g. file://examples/app), or at an OCI image reference",
        )
    ]


def packed(path: Path) -> bytes:
    """The release as a .tar.gz. A folder is packed the same way every time (sorted names, no
    owners or times), so an unchanged release gives the same bytes and changes nothing."""
    if path.is_file():
        return path.read_bytes()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for file in sorted(p for p in path.rglob("*") if "__pycache__" not in p.parts):
            info = tar.gettarinfo(str(file), arcname=str(file.relative_to(path)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
            if info.isfile():
                with open(file, "rb") as handle:
                    tar.addfile(info, handle)
            elif info.isdir():
                tar.addfile(info)
    # mtime=0: gzip's own header would otherwise carry the time of packing.
    return gzip.compress(out.getvalue(), mtime=0)
