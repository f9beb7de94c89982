"""One DR operation per stage at a time, refused clearly before the engine's own stack lock.

The lock is a `filelock` file in the DR folder beside the state (see `stageline.dr.places`):
`<dr folder>/locks/<stage>.lock`, with `<stage>.json` beside it naming the holder (command,
pid, host, start), so the refusal says who holds it. The OS drops the lock when its process
dies, so a killed run never leaves the stage locked; the stale holder file is only read while
the lock is held.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout


class DrLocked(Exception):
    """Another DR operation runs on the stage."""


def _holder(info: Path) -> str:
    try:
        data = json.loads(info.read_text())
        return (
            f"`stageline dr {data['command']}` (pid {data['pid']} on {data['host']}, "
            f"since {data['since']})"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "another DR operation"


@contextmanager
def dr_lock(folder: Path, stage: str, command: str) -> Iterator[None]:
    """Hold the stage's DR lock for the block; DrLocked at once if it is held."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stage}.lock"
    info = folder / f"{stage}.json"
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        raise DrLocked(
            f"stage {stage!r} is busy: {_holder(info)} holds {path}. Wait for it to finish; "
            "a run that was killed has released it already."
        ) from exc
    try:
        info.write_text(
            json.dumps(
                {
                    "command": command,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )
        yield
    finally:
        with suppress(OSError):
            info.unlink()
        lock.release()
