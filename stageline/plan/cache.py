"""A content-addressed cache of planned stage outputs, so a plan need not re-plan its upstreams.

Planning a stage needs the exports of its upstream, and planning an upstream on another
target loads that target's SDK: most of the time and memory of the stage's plan. A successful
plan's exports are stored under a key that hashes everything they are computed from:

- the stage's own stack file, byte for byte, and the stack name (an ephemeral `ci-1234` reuses
  the `ci` file under another name);
- the keys of its upstream (so a change anywhere up the chain reaches every stage below);
- the stage graph's relations (what `load_stage_graph` checks across files);
- the template revision (`components/`), the operator's own sources (`stageline/`), and the
  installed distributions' versions (a provider SDK upgrade can change what a plan records).

Any change to one of them is a new key, so an entry is never stale; it is only ever unused.
Entries are written atomically, so plans running side by side share the folder safely.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi

from stageline.graph import StageGraph
from stageline.revision import source_digest, template_revision
from stageline.stack_files import StackFile

CACHE_FOLDER = Path(".stageline") / "cache" / "plans"
CACHE_ENV = "STAGELINE_PLAN_CACHE"
"""Folder of the cache instead of `<project>/.stageline/cache/plans`."""
FORMAT = 1
"""Bumped when what an entry holds changes shape."""

STAGELINE_SOURCES = Path(__file__).resolve().parents[1]


@cache
def installed_versions() -> str:
    """The installed distributions with their versions, from the dist-info folder names."""
    site = Path(pulumi.__file__).resolve().parents[1]
    names = sorted(p.name for p in site.iterdir() if p.name.endswith(".dist-info"))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def graph_digest(graph: StageGraph) -> str:
    nodes = sorted(repr(node) for node in graph.nodes.values())
    return hashlib.sha256("\n".join(nodes).encode()).hexdigest()


def current_revision() -> str:
    """What every entry depends on besides its stage: the code and the installed SDKs."""
    return "|".join(
        (template_revision(), source_digest(STAGELINE_SOURCES)[:16], installed_versions()[:16])
    )


@dataclass(frozen=True)
class PlanCache:
    folder: Path
    revision: str
    """`current_revision()`: entries written under another revision are never read."""

    @classmethod
    def for_project(cls, root: Path) -> PlanCache:
        configured = os.environ.get(CACHE_ENV)
        folder = Path(configured) if configured else root / CACHE_FOLDER
        return cls(folder, current_revision())

    def key(self, stack: StackFile, upstream_key: str | None, graph: str) -> str:
        parts = {
            "format": FORMAT,
            "stack": stack.name,
            "file": hashlib.sha256(stack.path.read_bytes()).hexdigest(),
            "upstream": upstream_key,
            "graph": graph,
            "revision": self.revision,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        """The exports stored under `key` (secrets still wrapped), or None."""
        try:
            data = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None  # absent, or a partial file from a crash: plan again
        return data if isinstance(data, dict) else None

    def store(self, key: str, exports: Mapping[str, Any]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w") as out:
                json.dump(exports, out, sort_keys=True)
            os.replace(tmp, self._path(key))
        except OSError:
            pass  # a read-only or full disk costs a re-plan next time, never the plan itself
