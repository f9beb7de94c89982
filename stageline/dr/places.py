"""Where the operator keeps DR bookkeeping: locks and drill tags (TTL), beside the state.

A file backend's folder is shared by everyone who shares the state, so the bookkeeping lives
there too (`<state>/.stageline-dr/`): a lock taken by one checkout is seen by another, and
`dr gc` finds drills started from any checkout. Any other backend has no folder stageline can
write, so the project's own `.stageline/dr/` is used: one machine's view only.
"""

from __future__ import annotations

from pathlib import Path

from stageline.backend import Backend

DR_FOLDER = ".stageline-dr"
REPORTS = "drills"


def dr_folder(backend: Backend, project_root: Path) -> Path:
    if backend.url.startswith("file://") and "?" not in backend.url:
        return Path(backend.url.removeprefix("file://")).expanduser() / DR_FOLDER
    return project_root / ".stageline" / "dr"


def locks_folder(folder: Path) -> Path:
    return folder / "locks"


def tags_folder(folder: Path) -> Path:
    return folder / "drills"


def reports_folder(project_root: Path) -> Path:
    return project_root / REPORTS
