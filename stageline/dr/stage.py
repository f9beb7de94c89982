"""A DR stage as the operator sees it: its validated config, its primary, and the two sides as
`StackView`s built from their outputs on the backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.dr import missing_keys
from components.dr_ops import DrSides, StackView
from components.errors import ConfigError
from components.targets import target_of
from stageline.config import StageConfig, file_config
from stageline.dr.seams import DrEngine
from stageline.model import DisasterRecovery, stage_keys
from stageline.stack_files import STACK_FILE_PREFIX, StackFile
from stageline.workspace import Project, StageNotFoundError

DR_KEY = "stageline:disasterRecovery"


class DrError(Exception):
    """A DR operation cannot go on: the message names what is wrong and what to run."""


@dataclass(frozen=True)
class DrStage:
    config: StageConfig
    file: StackFile

    @property
    def name(self) -> str:
        return self.config.stack

    @property
    def dr(self) -> DisasterRecovery:
        assert self.config.disaster_recovery is not None
        return self.config.disaster_recovery

    @property
    def primary(self) -> str:
        assert self.config.promotes_from is not None
        return self.config.promotes_from

    @property
    def own_file(self) -> Path:
        """The stage's own stack file (an ephemeral copy's, not its template's)."""
        return self.file.path.with_name(f"{STACK_FILE_PREFIX}{self.name}.yaml")


def _stack_file(project: Project, stage: str) -> StackFile:
    try:
        return project.stack_file(stage)
    except StageNotFoundError as exc:
        raise DrError(str(exc)) from exc


def load_dr_stage(project: Project, stage: str) -> DrStage:
    """STAGE's validated config; DrError unless it is a DR stage."""
    file = _stack_file(project, stage)
    try:
        config = file_config(file)
    except ConfigError as exc:
        raise DrError(str(exc)) from exc
    if config.disaster_recovery is None:
        raise DrError(
            f"stage {stage!r} is not a DR stage: {file.path.name} has no {DR_KEY}. Name a DR "
            "stage (one with disasterRecovery: {mode: pilot-light, ...} and promotesFrom: its "
            "primary), or add that section."
        )
    return DrStage(config, file)


def drilled_stage(project: Project, stage: str) -> str:
    """The DR stage a drill of STAGE exercises: STAGE itself, or the one DR stage whose primary
    STAGE is (`dr drill onprem` drills onprem-dr)."""
    file = _stack_file(project, stage)
    if stage_keys(file.values).disaster_recovery is not None:
        return stage
    replicas = sorted(
        name
        for name, other in project.stack_files().items()
        if stage_keys(other.values).disaster_recovery is not None
        and stage_keys(other.values).promotes_from == stage
    )
    if len(replicas) == 1:
        return replicas[0]
    if not replicas:
        raise DrError(
            f"stage {stage!r} has no DR stage: no stack file with {DR_KEY} promotes from it. "
            "Add one (see stacks/Pulumi.onprem-dr.yaml) or name a DR stage."
        )
    raise DrError(f"stage {stage!r} has several DR stages ({', '.join(replicas)}); name one")


def view(project: Project, stage: str, outputs: Mapping[str, Any]) -> StackView:
    """A stack as the target's operations see it: its outputs and parsed target settings."""
    file = _stack_file(project, stage)
    keys = stage_keys(file.values)
    target = target_of(keys.target or "")
    section = target.resolve_paths(file.values.get(target.name) or {}, project.root)
    try:
        settings = target.validated_settings(section)
    except ValueError as exc:
        raise DrError(f"stage {stage!r}: {exc}") from exc
    return StackView(stack=stage, region=keys.region or "", outputs=outputs, settings=settings)


def outputs_of(engine: DrEngine, stage: str, role: str) -> Mapping[str, Any]:
    outputs = engine.outputs(stage)
    if not outputs:
        raise DrError(
            f"{role} {stage!r} has no outputs on the backend: run `stageline up {stage}` first"
        )
    return outputs


def sides(project: Project, engine: DrEngine, dr: DrStage, replica: str | None = None) -> DrSides:
    """The primary and the replica (the DR stage, or a drill's scratch copy of it) as views."""
    primary_outputs = outputs_of(engine, dr.primary, "primary")
    missing = missing_keys(primary_outputs)
    if missing:
        raise DrError(
            f"primary {dr.primary!r} lacks outputs a replica needs ({', '.join(missing)}): run "
            f"`stageline up {dr.primary}` to deploy it with this template"
        )
    name = replica or dr.name
    return DrSides(
        primary=view(project, dr.primary, primary_outputs),
        replica=view(project, name, outputs_of(engine, name, "DR stage")),
        zone=None if replica else dr.dr.dns_zone,
    )


def primary_min_count(sides: DrSides) -> int:
    compute = sides.primary.outputs.get("compute") or {}
    try:
        return int(compute["minCount"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DrError(
            f"primary {sides.primary.stack!r} exports no compute.minCount: run "
            f"`stageline up {sides.primary.stack}` to deploy it with this template"
        ) from exc
