"""What stageline writes into each update's message, and reads back from the update history.

The backend keeps the update history beside the stack's state (a file backend, S3, Azure Blob,
GCS or Pulumi Cloud alike), so the records travel with the state and need no store of ours.
Every update stageline runs names the release it deploys when it knows it beforehand (a pinned
release, or the one a promotion moves); a promotion's update also carries its record: who
approved it and which gates passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pulumi import automation as auto
from pydantic import BaseModel, ConfigDict, ValidationError

from components.contract import ReleaseManifest

MARK = "stageline "
"""Prefix of stageline's update messages; what follows is the JSON of an UpdateMark."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class GateOutcome(_Record):
    gate: str
    """`approval`, `soakMinutes` or `verify`."""
    passed: bool
    reason: str
    fix: str = ""
    """For a blocked gate: what would pass it."""


class PromotionRecord(_Record):
    stage: str
    release: dict[str, str]
    """The contract's release: appVersion, artifact, templateRevision."""
    from_stage: str
    from_stack: str
    approved_by: str | None = None
    approval: str = ""
    """How the approval was given (`--approved-by`, `GitHub environment prod`), or why none
    was needed."""
    gates: tuple[GateOutcome, ...] = ()
    decided_at: str = ""
    """When the gates were evaluated (ISO 8601, UTC); the update's own times come from the
    history."""


class UpdateMark(_Record):
    release: dict[str, str] | None = None
    """The release the update deploys; None when stageline did not know it beforehand."""
    promotion: PromotionRecord | None = None


def release_fields_of(release: ReleaseManifest | None) -> dict[str, str] | None:
    if release is None:
        return None
    return {str(k): str(v) for k, v in release.to_output().items() if v is not None}


def message_for(mark: UpdateMark) -> str:
    return MARK + mark.model_dump_json(exclude_none=True)


def read_mark(message: str | None) -> UpdateMark | None:
    """stageline's mark in an update message; None for any other message (a plain `pulumi up`)."""
    if not message or not message.startswith(MARK):
        return None
    try:
        return UpdateMark.model_validate_json(message.removeprefix(MARK))
    except ValidationError:
        return None


@dataclass(frozen=True)
class Update:
    """One entry of a stack's update history, as the backend recorded it."""

    version: int
    kind: str
    """update, refresh, destroy, ..."""
    result: str
    """succeeded, failed, in-progress."""
    started: datetime
    ended: datetime | None
    mark: UpdateMark | None


def as_utc(moment: datetime | None) -> datetime | None:
    """The engine's times, naive in UTC, as aware ones."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def read_history(stack: auto.Stack) -> list[Update]:
    """The stack's updates, newest first (an empty list for a stack never updated)."""
    found: list[Any] = stack.history(show_secrets=False) or []
    updates = [
        Update(
            version=int(s.version or 0),
            kind=str(s.kind),
            result=str(s.result),
            started=as_utc(s.start_time) or datetime.fromtimestamp(0, UTC),
            ended=as_utc(s.end_time),
            mark=read_mark(s.message),
        )
        for s in found
    ]
    return sorted(updates, key=lambda u: u.version, reverse=True)
