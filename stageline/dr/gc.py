"""`dr gc`: remove drills whose process died or whose TTL passed.

A drill is found three ways: its tag (written before its stack exists), its stack on the
backend (`<stage>-drill-<hex>`), or its scratch stack file. It is removed when its tag says it
is past its deadline, or that it was made on this host by a process that is gone, or when it
has no tag at all (its run ended, or was killed, before removing it). A drill made on another
host is left until its deadline: this host cannot see its process.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from stageline.dr.drill import describe_error
from stageline.dr.scratch import (
    DRILL_NAME,
    ensure_scratch_file,
    read_tag,
    scratch_file,
    tag_path,
    tags,
)
from stageline.dr.seams import DrSeams
from stageline.dr.stage import load_dr_stage
from stageline.dr.wait import Echo
from stageline.workspace import Project


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


@dataclass(frozen=True)
class Verdict:
    stack: str
    remove: bool
    reason: str


def verdict(
    folder: Path, stack: str, now: datetime, host: str, alive: Callable[[int], bool]
) -> Verdict:
    tag = read_tag(folder, stack)
    if tag is None:
        return Verdict(stack, True, "no drill tag: its run is gone")
    if datetime.fromisoformat(tag.deadline) <= now:
        return Verdict(stack, True, f"its TTL passed at {tag.deadline}")
    if tag.host == host and not alive(tag.pid):
        return Verdict(stack, True, f"its process {tag.pid} on {host} is gone")
    where = "this host" if tag.host == host else tag.host
    return Verdict(stack, False, f"running (pid {tag.pid} on {where}, TTL until {tag.deadline})")


def find_drills(project: Project, seams: DrSeams, folder: Path) -> list[str]:
    on_backend = [s for s in seams.engine.stacks() if DRILL_NAME.match(s)]
    files = [
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in project.stacks_dir.glob("Pulumi.*-drill-*.yaml")
    ]
    return sorted({*tags(folder), *on_backend, *(f for f in files if DRILL_NAME.match(f))})


def remove_drill(project: Project, seams: DrSeams, folder: Path, stack: str, backend: bool) -> None:
    if backend:
        # Destroy must see the scratch copy (unprotected, ephemeral, so its stack is removed
        # too), not the DR stage it was made from.
        tag = read_tag(folder, stack)
        found = DRILL_NAME.match(stack)
        dr_stage = tag.dr_stage if tag else found["stage"] if found else stack
        ensure_scratch_file(project, load_dr_stage(project, dr_stage), stack)
        # A drill killed mid-update left the stack locked and objects its state never
        # recorded: release, refresh and converge first, so the destroy removes everything.
        seams.engine.recover(stack)
        seams.engine.destroy(stack, force_protected=False)
    scratch_file(project, stack).unlink(missing_ok=True)
    tag_path(folder, stack).unlink(missing_ok=True)


def run_gc(
    project: Project,
    seams: DrSeams,
    folder: Path,
    dry_run: bool,
    echo: Echo,
    host: str | None = None,
    alive: Callable[[int], bool] = pid_alive,
) -> list[str]:
    """Remove dead or expired drills; returns the ones that could not be removed."""
    host = host or socket.gethostname()
    now = seams.clock.now()
    on_backend = set(seams.engine.stacks())
    failed: list[str] = []
    found = find_drills(project, seams, folder)
    if not found:
        echo("no drills found")
    for stack in found:
        v = verdict(folder, stack, now, host, alive)
        if not v.remove:
            echo(f"{stack}: kept, {v.reason}")
            continue
        if dry_run:
            echo(f"{stack}: would remove ({v.reason})")
            continue
        echo(f"{stack}: removing ({v.reason})")
        try:
            remove_drill(project, seams, folder, stack, stack in on_backend)
        except Exception as exc:
            failed.append(stack)
            echo(f"{stack}: could not be removed: {describe_error(exc)}")
            continue
        echo(f"{stack}: removed")
    return failed
