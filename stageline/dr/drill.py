"""`dr drill`: fail over a scratch copy of the DR stage, measure RTO and RPO, always clean up.

The drill leaves production alone: its scratch stack replicates from the primary like the DR
stage, and only the scratch copy is promoted; the failover record and the DR stage are not
touched. The scratch copy follows the same failover path as `dr failover` (promote, scale,
record role active, converge, wait for the ingress), so the RTO it measures is a failover's.

What is measured, and how:
- **RTO**: seconds from the start of the promotion until the scratch ingress answers healthy,
  on this machine's monotonic clock.
- **RPO**: the data a failover at that moment would have lost, in seconds. Two observations,
  and the larger counts: the replication lag the target reports just before the promotion,
  and the marker's delay: seconds from the primary committing the marker (write_marker
  returned) until the replica showed it, timed on this machine's clock (no clock skew between
  hosts; it over-states by up to one poll). The marker must also be present after the
  promotion; if it never arrived, or was lost, the RPO is unknown and the drill fails.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click

from components.dr_ops import DrOperations, DrSides, Marker, StackView
from stageline.config import STAGE_NAME
from stageline.dr.scratch import (
    DEFAULT_TTL_SECONDS,
    DrillTag,
    scratch_file,
    tag_path,
    write_scratch_file,
    write_tag,
)
from stageline.dr.seams import DrSeams
from stageline.dr.stack_edit import edit_file
from stageline.dr.stage import DrError, DrStage, drilled_stage, load_dr_stage, primary_min_count
from stageline.dr.stage import sides as stage_sides
from stageline.dr.wait import Echo, lag_words, poll, wait_ingress, wait_streaming
from stageline.workspace import Project

DEFAULT_TIMEOUT = 900.0
MARKER_POLL_SECONDS = 1.0
DEFINITIONS = {
    "rto": "seconds from the start of the promotion until the scratch ingress was healthy",
    "rpo": "the larger of the replication lag reported just before the promotion and the "
    "marker's delay (primary commit until the replica showed it); unknown if the marker "
    "did not arrive or was lost by the promotion",
}


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return str(exc) or type(exc).__name__


@dataclass
class Step:
    name: str
    seconds: float | None = None
    ok: bool = False
    error: str | None = None


@dataclass
class DrillReport:
    stage: str
    dr_stage: str
    primary: str
    scratch: str
    mode: str
    rto_target: int
    rpo_target: int
    started_at: str
    finished_at: str = ""
    rto_seconds: float | None = None
    rpo_seconds: float | None = None
    lag_at_promotion: float | None = None
    marker_delay: float | None = None
    marker_found: dict[str, bool] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    cleaned_up: bool = False

    @property
    def rto_pass(self) -> bool:
        return self.rto_seconds is not None and self.rto_seconds <= self.rto_target

    @property
    def rpo_pass(self) -> bool:
        return self.rpo_seconds is not None and self.rpo_seconds <= self.rpo_target

    @property
    def steps_pass(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def passed(self) -> bool:
        return self.rto_pass and self.rpo_pass and self.steps_pass and self.cleaned_up

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "drStage": self.dr_stage,
            "primary": self.primary,
            "scratchStack": self.scratch,
            "mode": self.mode,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "targets": {"rtoSeconds": self.rto_target, "rpoSeconds": self.rpo_target},
            "measured": {
                "rtoSeconds": self.rto_seconds,
                "rpoSeconds": self.rpo_seconds,
                "lagAtPromotionSeconds": self.lag_at_promotion,
                "markerDelaySeconds": self.marker_delay,
                "markerFound": self.marker_found,
            },
            "pass": {
                "rto": self.rto_pass,
                "rpo": self.rpo_pass,
                "steps": self.steps_pass,
                "cleanup": self.cleaned_up,
            },
            "passed": self.passed,
            "steps": [asdict(s) for s in self.steps],
            "errors": [f"{s.name}: {s.error}" for s in self.steps if s.error],
            "definitions": DEFINITIONS,
        }


def _seconds(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1f} s"


def render_markdown(report: DrillReport) -> str:
    verdict = "PASSED" if report.passed else "FAILED"
    ok = {True: "pass", False: "FAIL"}
    lines = [
        f"# DR drill of {report.dr_stage}: {verdict}",
        "",
        f"- primary: {report.primary}; scratch stack: {report.scratch}; mode: {report.mode}",
        f"- started {report.started_at}, finished {report.finished_at}",
        f"- scratch stack removed: {'yes' if report.cleaned_up else 'NO: run `stageline dr gc`'}",
        "",
        "| objective | target | measured | result |",
        "|---|---|---|---|",
        f"| RTO | {report.rto_target} s | {_seconds(report.rto_seconds)} | {ok[report.rto_pass]} |",
        f"| RPO | {report.rpo_target} s | {_seconds(report.rpo_seconds)} | {ok[report.rpo_pass]} |",
        "",
        f"RPO evidence: lag at promotion {_seconds(report.lag_at_promotion)}, marker delay "
        f"{_seconds(report.marker_delay)}, marker found after promotion: "
        + (", ".join(f"{k} {v}" for k, v in report.marker_found.items()) or "not checked"),
        "",
        "| step | seconds | result | error |",
        "|---|---|---|---|",
    ]
    for s in report.steps:
        seconds = "-" if s.seconds is None else f"{s.seconds:.1f}"
        error = (s.error or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {s.name} | {seconds} | {ok[s.ok]} | {error} |")
    lines += ["", "Definitions:", *(f"- {k.upper()}: {v}" for k, v in DEFINITIONS.items()), ""]
    return "\n".join(lines)


def write_report(report: DrillReport, folder: Path, stamp: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"{report.stage}-{stamp}"
    json_path, md_path = base.with_suffix(".json"), base.with_suffix(".md")
    json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    md_path.write_text(render_markdown(report))
    return json_path, md_path


def new_scratch_name(dr_stage: str, token: Callable[[], str] = lambda: secrets.token_hex(3)) -> str:
    name = f"{dr_stage}-drill-{token()}"
    if not STAGE_NAME.fullmatch(name):
        raise DrError(
            f"a drill of {dr_stage!r} needs a stack named {name!r}, longer than a stack name may "
            "be (40 characters); give the DR stage a shorter name"
        )
    return name


@dataclass
class Drill:
    project: Project
    seams: DrSeams
    dr: DrStage
    report: DrillReport
    echo: Echo
    timeout: float
    ops: DrOperations

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        clock = self.seams.clock
        step = Step(name)
        self.report.steps.append(step)
        self.echo(f"drill: {name}")
        start = clock.monotonic()
        try:
            yield step
            step.ok = step.error is None
        except BaseException as exc:
            step.error = describe_error(exc)
            self.echo(f"drill: {name} failed: {step.error}")
            raise
        finally:
            step.seconds = clock.monotonic() - start

    def sides(self) -> DrSides:
        return stage_sides(self.project, self.seams.engine, self.dr, replica=self.report.scratch)

    def wait_marker(self, scratch: StackView, name: str, written: float) -> float | None:
        """Seconds until the replica shows the marker (all its kinds), None if not within the
        RPO budget (then the RPO target is missed anyway)."""
        clock = self.seams.clock

        def arrived(m: Marker | None) -> bool:
            return m is not None and all(m.found.values())

        try:
            poll(
                lambda: self.ops.read_marker(scratch, name),
                arrived,
                lambda m: "marker not there yet" if m is None else f"marker found: {m.found}",
                "the marker did not reach the replica",
                self.report.rpo_target,
                clock,
                MARKER_POLL_SECONDS,
                self.echo,
            )
        except Exception as exc:
            raise DrError(str(exc)) from exc
        return clock.monotonic() - written

    def run(self) -> None:
        clock, engine, scratch = self.seams.clock, self.seams.engine, self.report.scratch
        with self.step("create the scratch stack"):
            path = write_scratch_file(self.project, self.dr, scratch)
        with self.step("deploy the scratch stack"):
            engine.up(scratch)
        with self.step("wait until it replicates"):
            both = self.sides()
            state = wait_streaming(
                self.ops, both, self.timeout, clock, self.seams.poll_seconds, self.echo
            )
            self.echo(f"drill: {lag_words(state)}")
        name = f"drill-{scratch}"
        with self.step("write a marker into the primary"):
            self.ops.write_marker(both.primary, name)
            written = clock.monotonic()
        with self.step("wait for the marker on the replica") as step:
            try:
                self.report.marker_delay = self.wait_marker(both.replica, name, written)
            except DrError as exc:
                step.error = str(exc)  # recorded; the promotion is still measured
        with self.step("read the lag before promoting"):
            self.report.lag_at_promotion = self.ops.replication(both).lag_seconds
        started = clock.monotonic()
        with self.step("promote the scratch replica"):
            self.ops.promote(both)
        with self.step("scale the scratch compute"):
            count = max(self.dr.config.spec.compute.min_count, primary_min_count(both))
            self.ops.scale(both.replica, count)
        with self.step("record role active and converge"):
            edit_file(path, ("config", "stageline:disasterRecovery"), "role", "active")
            # Not waiting for the whole scale-out: the RTO ends when the ingress serves.
            engine.up(scratch, wait=False)
        with self.step("wait until the scratch ingress is healthy"):
            promoted = self.sides().replica
            wait_ingress(
                self.ops, promoted, self.timeout, clock, self.seams.poll_seconds, self.echo
            )
            self.report.rto_seconds = clock.monotonic() - started
        with self.step("check the marker after the promotion") as step:
            found = self.ops.read_marker(promoted, name)
            self.report.marker_found = dict(found.found) if found else {"row": False}
            if found is None or not all(found.found.values()):
                step.error = f"the marker is missing: {self.report.marker_found}"
        if self.report.marker_delay is not None and step.ok:
            lag = self.report.lag_at_promotion
            self.report.rpo_seconds = max(self.report.marker_delay, lag if lag is not None else 0)

    def clean_up(self) -> None:
        scratch = self.report.scratch
        try:
            with self.step("destroy the scratch stack"):
                if scratch_file(self.project, scratch).is_file():
                    self.seams.engine.destroy(scratch, force_protected=False)
        except Exception:
            return  # recorded in the step; the tag stays, so `dr gc` retries
        with suppress(OSError):
            scratch_file(self.project, scratch).unlink()
        self.report.cleaned_up = True


def run_drill(
    project: Project,
    seams: DrSeams,
    stage: str,
    tags: Path,
    reports: Path,
    echo: Echo,
    timeout: float = DEFAULT_TIMEOUT,
    ttl: float = DEFAULT_TTL_SECONDS,
) -> tuple[DrillReport, tuple[Path, Path]]:
    """Run a drill of STAGE (a DR stage, or the primary of exactly one); returns its report
    and the report files. Cleans up, and writes the report, whatever happens."""
    dr = load_dr_stage(project, drilled_stage(project, stage))
    ops = seams.operations(dr.config.target)
    clock = seams.clock
    scratch = new_scratch_name(dr.name)
    now = clock.now()
    report = DrillReport(
        stage=stage,
        dr_stage=dr.name,
        primary=dr.primary,
        scratch=scratch,
        mode=dr.dr.mode,
        rto_target=dr.dr.rto_seconds,
        rpo_target=dr.dr.rpo_seconds,
        started_at=now.isoformat(timespec="seconds"),
    )
    drill = Drill(project, seams, dr, report, echo, timeout, ops)
    interrupted: BaseException | None = None
    write_tag(tags, DrillTag.new(scratch, dr.name, now, ttl))
    echo(f"drill: {dr.name} from {dr.primary}, scratch stack {scratch}")
    try:
        drill.run()
    except Exception:
        pass  # recorded in its step
    except (KeyboardInterrupt, SystemExit) as exc:
        interrupted = exc
    finally:
        drill.clean_up()
        if report.cleaned_up:
            with suppress(OSError):
                tag_path(tags, scratch).unlink()
        report.finished_at = clock.now().isoformat(timespec="seconds")
        stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
        files = write_report(report, reports, stamp)
    if interrupted is not None:
        raise interrupted
    return report, files
