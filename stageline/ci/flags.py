"""What a reviewer must see before anything else in a preview: lost data, protected resources
the change would delete, stages that could not be previewed, mandatory policy violations.

Flags are plain data (no markup): the markdown and text views escape and lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stageline.ci.report import PreviewReport, ResourceChange, StageReport, Violation

FlagKind = Literal["failed", "data-replaced", "protected-deleted", "mandatory-violation"]
FLAG_KINDS: tuple[FlagKind, ...] = (
    "failed",
    "data-replaced",
    "protected-deleted",
    "mandatory-violation",
)
"""In the order a reviewer reads them: a failed stage hides everything else about it."""


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    stage: str
    subject: str
    """The resource's name, or the stage's for a failed stage."""
    type: str
    """The resource's type; empty for a failed stage."""
    detail: str
    """What happens and why it matters, one line of plain text."""
    urn: str = ""
    """The resource's URN (empty for a failed stage): what ties the flag to its detail row."""

    @property
    def text(self) -> str:
        """The flag as one line of plain text."""
        if self.kind == "failed":
            return f"{self.stage}: {self.detail}"
        what = f"{self.subject} ({self.type})" if self.type else self.subject
        return f"{self.stage}: {what}: {self.detail}"


def resource_name(urn: str) -> str:
    """The name at the end of a URN (`urn:pulumi:stack::project::type::name` -> `name`)."""
    return urn.rsplit("::", 1)[-1]


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    return lines[0] + (" (first line of the message)" if len(lines) > 1 else "")


def data_replaced(change: ResourceChange) -> bool:
    return change.data and change.op == "replace"


def protected_deleted(change: ResourceChange) -> bool:
    # A replacement deletes the old resource too: the engine refuses either while protected.
    return change.protected and change.op in ("delete", "replace")


def _change_flags(stage: StageReport, change: ResourceChange) -> list[Flag]:
    flags = []
    if data_replaced(change):
        keys = ", ".join(change.replace_keys) or "not given by the preview"
        flags.append(
            Flag(
                "data-replaced",
                stage.stage,
                change.name,
                change.type,
                f"data resource replaced, its data is lost (forced by: {keys})",
                change.urn,
            )
        )
    if protected_deleted(change):
        verb = "deleted" if change.op == "delete" else "replaced (the old one deleted)"
        flags.append(
            Flag(
                "protected-deleted",
                stage.stage,
                change.name,
                change.type,
                f"protected resource {verb}: the engine refuses this until protection is lifted",
                change.urn,
            )
        )
    return flags


def _violation_flag(stage: StageReport, violation: Violation) -> Flag:
    return Flag(
        "mandatory-violation",
        stage.stage,
        resource_name(violation.urn),
        violation.type,
        f"policy {violation.policy}: {violation.message} (fix: {violation.fix})",
        violation.urn,
    )


def flags(report: PreviewReport) -> list[Flag]:
    """Every flag in the report, by kind (see FLAG_KINDS), then stage order, then URN."""
    found: list[Flag] = []
    for stage in report.stages:
        if stage.error is not None:
            found.append(
                Flag(
                    "failed",
                    stage.stage,
                    stage.stage,
                    "",
                    f"preview failed: {first_line(stage.error)}",
                )
            )
        for change in stage.changes:
            found.extend(_change_flags(stage, change))
        found.extend(_violation_flag(stage, v) for v in stage.violations if v.level == "mandatory")
    order = {s.stage: i for i, s in enumerate(report.stages)}
    return sorted(
        found,
        key=lambda f: (FLAG_KINDS.index(f.kind), order[f.stage], f.urn, f.detail),
    )
