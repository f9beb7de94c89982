"""Approved = applied: a deploy job applies a stage only when its fresh preview is the one a
reviewer approved in the preview report (stageline/ci/approval.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from stageline.ci.approval import differences, digest
from stageline.ci.report import ReleaseChange, ResourceChange, StageReport


def approved_stage(path: Path, stage: str) -> StageReport:
    from stageline.cli.ci import read_report

    report = read_report(path)
    for found in report.stages:
        if found.stage == stage:
            if found.error:
                raise click.ClickException(
                    f"the preview report {path} shows stage {stage!r} failed ({found.error}): "
                    "nothing was approved for it; fix the preview and have it reviewed again"
                )
            return found
    raise click.ClickException(
        f"the preview report {path} has no stage {stage!r}, so nobody approved its changes: "
        f"write it with `stageline preview --all --format json --output {path}`"
    )


def refuse_unapproved(
    approved: StageReport, changes: Sequence[ResourceChange], planned: str | None, path: Path
) -> None:
    """Raise, naming each difference, unless the fresh changes are the approved ones."""
    fresh = StageReport(
        stage=approved.stage,
        target=approved.target,
        source="engine",
        changes=tuple(changes),
        release=ReleaseChange(current=None, planned=planned, source="") if planned else None,
        digest=digest(changes, planned),
    )
    found = differences(approved, fresh)
    if found:
        lines = "\n".join(f"  - {line}" for line in found)
        raise click.ClickException(
            f"{approved.stage}: the changes to apply are not the ones approved in {path} "
            f"(approved {approved.digest}, now {fresh.digest}):\n{lines}\n"
            "Nothing was applied. Preview again and have the new summary reviewed."
        )
    click.echo(f"{approved.stage}: changes match the approved preview ({approved.digest})")
