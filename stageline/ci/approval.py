"""Approved = applied: the hash a reviewer approves, and what differs when a re-preview
does not match it.

The hash covers what a stage's update would do: each changed resource's URN, its op, the
properties that change and those that force a replacement, and the release it deploys. It
leaves out what does not change the infrastructure (the order events arrived in, counts that
follow from the changes, notes). A deploy step re-previews the stage and refuses to apply it
when the fresh hash is not the approved one, naming each change that differs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from stageline.ci.report import ResourceChange, StageReport

DIGEST_PREFIX = "sha256:"


def _canonical(change: ResourceChange) -> list[object]:
    return [change.urn, change.op, sorted(change.diff), sorted(change.replace_keys)]


def digest(changes: Iterable[ResourceChange], release: str | None = None) -> str:
    body = {
        "changes": sorted(_canonical(c) for c in changes),
        "release": release,
    }
    # The body's keys are written in one order, so the text is canonical without sorting them.
    text = json.dumps(body, separators=(",", ":"))
    return DIGEST_PREFIX + hashlib.sha256(text.encode()).hexdigest()


def stage_digest(report: StageReport) -> str:
    return digest(report.changes, report.release.planned if report.release else None)


def _describe(change: ResourceChange) -> str:
    keys = f" ({', '.join(change.diff)})" if change.diff else ""
    return f"{change.op} {change.type} {change.name}{keys}"


def differences(approved: StageReport, fresh: StageReport) -> list[str]:
    """What the fresh preview would do that the approved one did not, and the reverse; empty
    when they match. Each line names the resource, as a reviewer would look it up."""
    before = {c.urn: c for c in approved.changes}
    after = {c.urn: c for c in fresh.changes}
    lines: list[str] = []
    for urn in sorted(before.keys() | after.keys()):
        old, new = before.get(urn), after.get(urn)
        if old is not None and new is not None:
            if _canonical(old) != _canonical(new):
                lines.append(f"changed: approved {_describe(old)}, now {_describe(new)}")
        elif new is not None:
            lines.append(f"not approved: {_describe(new)}")
        elif old is not None:
            lines.append(f"approved but no longer planned: {_describe(old)}")
    old_release = approved.release.planned if approved.release else None
    new_release = fresh.release.planned if fresh.release else None
    if old_release != new_release:
        lines.append(f"release: approved {old_release}, now {new_release}")
    if not lines and approved.digest != stage_digest(fresh):
        # Same changes but another hash: the approved report was edited or made otherwise.
        lines.append(f"approved digest {approved.digest} does not hash the approved changes")
    return lines
