"""What `stageline preview --all` found, as one typed report: the JSON form, the input of the
markdown summary and of `stageline ci comment`, and what a deploy step checks approval against.

The report is written once (`preview --all --format json` or the file `--report` names) and
read back by other commands, so every field is plain data with a stated meaning.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

REPORT_FORMAT = 1
"""Bumped when the report changes shape; a reader refuses another format."""

Op = Literal["create", "update", "replace", "delete"]
"""A change as a reviewer counts it. The engine's create-replacement / delete-replaced pairs
are one `replace`; `same`, `read` and `refresh` steps are not changes."""
OPS: tuple[Op, ...] = ("create", "update", "replace", "delete")

Source = Literal["engine", "offline"]
"""How the stage was previewed: the real engine against its state, or the offline plan (under
mocks, without credentials) when the engine cannot preview it here."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ResourceChange(_Model):
    urn: str
    type: str
    name: str
    op: Op
    diff: tuple[str, ...] = ()
    """Top-level properties that change (update, replace); empty where the engine gives none."""
    replace_keys: tuple[str, ...] = ()
    """Properties whose change forces the replacement."""
    data: bool = False
    """The resource holds data (a database, a bucket, a disk): replacing it loses that data."""
    protected: bool = False
    """Marked `protect` in the stage's current state (the engine refuses to delete it)."""


Level = Literal["mandatory", "advisory"]


class Violation(_Model):
    policy: str
    """The policy's name, as in policy/."""
    level: Level
    urn: str
    type: str
    message: str
    """What is wrong, naming the property and its value."""
    fix: str


class ParityItem(_Model):
    peer: str
    """The stage compared with (the stage it promotes from)."""
    kind: Literal["expected", "structural"]
    """`expected`: a size, count or tier differs as the stages' config says it should.
    `structural`: a resource type present in one stage and missing in the other."""
    subject: str
    """A resource type, or a config key."""
    detail: str
    """The two sides, e.g. `2 in dev, 3 in prod`."""


class ReleaseChange(_Model):
    current: str | None
    """The application version the stage runs now (None: not deployed)."""
    planned: str
    """The version the previewed change deploys."""
    source: str
    """`pinned`, or `promoted from <stage>`."""


class StageReport(_Model):
    stage: str
    target: str
    source: Source
    note: str = ""
    """Why the stage was previewed the way it was (e.g. the provider plugin that is missing
    for the engine), shown next to the stage; empty for a plain engine preview."""
    error: str | None = None
    """Why the preview failed, as one clear message; None when it ran."""
    counts: dict[Op, int] = Field(default_factory=dict)
    changes: tuple[ResourceChange, ...] = ()
    """Every change, in URN order; unchanged resources are left out."""
    violations: tuple[Violation, ...] = ()
    parity: tuple[ParityItem, ...] = ()
    release: ReleaseChange | None = None
    chained_from: str | None = None
    """Set when the stage was previewed against its upstream's planned outputs (the upstream
    had pending changes), i.e. as it will be after that upstream is promoted."""
    digest: str = ""
    """Hash of `changes` (see stageline.ci.approval): what a reviewer approved."""

    @property
    def ok(self) -> bool:
        return self.error is None


class Selection(_Model):
    base: str | None = None
    """The git revision `--changed` compared with; None: every stage was asked for."""
    stages: tuple[str, ...] = ()
    """The stages previewed, in graph order."""
    reasons: dict[str, str] = Field(default_factory=dict)
    """Stage -> why it was selected (e.g. `stacks/Pulumi.qa.yaml changed`, `downstream of qa`)."""
    summary: str = ""
    """One line for the reviewer, e.g. `docs only changed: no stage is affected`."""


class PreviewReport(_Model):
    format: int = REPORT_FORMAT
    selection: Selection
    stages: tuple[StageReport, ...] = ()

    def stage(self, name: str) -> StageReport:
        for report in self.stages:
            if report.stage == name:
                return report
        raise KeyError(name)


def load_report(text: str) -> PreviewReport:
    """The report from its JSON; ValueError names what is wrong (another format, bad JSON)."""
    report = PreviewReport.model_validate_json(text)
    if report.format != REPORT_FORMAT:
        raise ValueError(
            f"report format {report.format} is not {REPORT_FORMAT}: re-run "
            "`stageline preview --all --format json` with this stageline"
        )
    return report
