"""The template revision: a content hash of `components/`, the code that shapes every stage."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

COMPONENTS = Path(__file__).resolve().parents[1] / "components"


@cache
def source_digest(folder: Path) -> str:
    """A hash of every Python source under `folder`, by relative path and content.

    Stable across checkouts and machines (unlike mtimes), and needs no git.
    """
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def template_revision(folder: Path = COMPONENTS) -> str:
    return f"tpl-{source_digest(folder)[:12]}"
