"""Promotion: a stage reads its upstream's contract and deploys the release it verified."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pulumi

from components.contract import (
    CONTRACT_KEYS,
    KEY_RELEASE,
    KEY_SCHEMA_VERSION,
    SCHEMA_VERSION,
    ReleaseManifest,
    is_compatible,
)
from components.dr import ReplicaPlan, replica_source
from stageline.config import StageConfig


@dataclass(frozen=True)
class Upstream:
    stage: str
    stack_name: str
    """Fully qualified `org/project/stack`, as StackReference takes it."""
    schema_version: str
    release: ReleaseManifest


@dataclass(frozen=True)
class ResolvedRelease:
    manifest: ReleaseManifest
    source: str
    """Where it came from, for logs and `stageline promote`: `pinned` or `promoted from <stage>`."""


PLANNED_UPSTREAM_ENV = "STAGELINE_PLANNED_UPSTREAM"
"""A JSON file of `{upstream stage: its planned outputs}`. Set by `stageline preview --all` for
a stage whose upstream has pending changes, so the stage is previewed as it will be once that
upstream is applied and promoted. Honoured by previews only: an update always reads the
upstream's applied outputs."""


class OutputSource(Protocol):
    """Where a stage reads its upstream's outputs: a StackReference, or planned outputs."""

    async def get_output_details(self, name: str) -> pulumi.StackReferenceOutputDetails: ...


@dataclass(frozen=True)
class PlannedOutputs:
    """An upstream's outputs as its preview plans them, served like a StackReference."""

    outputs: dict[str, Any]

    async def get_output_details(self, name: str) -> pulumi.StackReferenceOutputDetails:
        return pulumi.StackReferenceOutputDetails(value=self.outputs.get(name))


def planned_upstream(upstream: str, dry_run: bool) -> PlannedOutputs | None:
    """The upstream's planned outputs when this preview was asked to use them, else None."""
    path = os.environ.get(PLANNED_UPSTREAM_ENV)
    if not path:
        return None
    if not dry_run:
        raise PromotionError(
            f"{PLANNED_UPSTREAM_ENV} is set, but this is an update: an update deploys what its "
            f"upstream {upstream!r} applied, never a plan. Fix: unset {PLANNED_UPSTREAM_ENV}."
        )
    try:
        planned = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PromotionError(f"{PLANNED_UPSTREAM_ENV}={path}: cannot read it ({exc})") from exc
    outputs = planned.get(upstream) if isinstance(planned, dict) else None
    return PlannedOutputs(outputs) if isinstance(outputs, dict) else None


def upstream_stack_name(upstream: str) -> str:
    # On a DIY backend the organization is the literal `organization`; get_organization() gives
    # the right value on every backend.
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{upstream}"


def _fix(upstream: str) -> str:
    return f"run `stageline up {upstream}` (or `pulumi up -s {upstream}`), then retry"


class PromotionError(pulumi.RunError):
    pass


async def read_upstream(config: StageConfig, ref: OutputSource, ref_name: str) -> Upstream:
    """Await the upstream's contract outputs; fail naming the stage, the stack and the fix."""
    upstream = config.promotes_from or ""

    async def require(key: str) -> Any:
        details = await ref.get_output_details(key)
        value = details.value if details.value is not None else details.secret_value
        if value is None:
            raise PromotionError(
                f"stage {config.stage!r} promotes from {upstream!r}, but upstream stack "
                f"{ref_name!r} has no output {key!r} (it was never deployed, or not with "
                f"stageline). Fix: {_fix(upstream)}."
            )
        return value

    version = await require(KEY_SCHEMA_VERSION)
    if not is_compatible(version):
        raise PromotionError(
            f"stage {config.stage!r} cannot read upstream stack {ref_name!r}: its contract "
            f"schema {version!r} is incompatible with {SCHEMA_VERSION} that this template "
            f"reads. Fix: deploy {upstream!r} with this template revision: {_fix(upstream)}."
        )
    raw_release = await require(KEY_RELEASE)
    try:
        release = ReleaseManifest.from_output(raw_release)
    except ValueError as exc:
        raise PromotionError(
            f"stage {config.stage!r}: upstream stack {ref_name!r} exports a malformed release "
            f"({exc}). Fix: {_fix(upstream)}."
        ) from exc
    return Upstream(upstream, ref_name, str(version), release)


async def read_replica_plan(config: StageConfig, ref: OutputSource, ref_name: str) -> ReplicaPlan:
    """A DR stage's primary, read from its whole contract: refuses, naming every missing key,
    a primary deployed before the contract carried what a replica needs."""
    dr = config.disaster_recovery
    primary = config.promotes_from or ""
    assert dr is not None
    outputs: dict[str, Any] = {}
    for key in CONTRACT_KEYS:
        details = await ref.get_output_details(key)
        value = details.value if details.value is not None else details.secret_value
        if value is not None:
            outputs[key] = value
    try:
        source = replica_source(primary, outputs)
    except ValueError as exc:
        raise PromotionError(
            f"DR stage {config.stage!r} replicates {primary!r}, but upstream stack "
            f"{ref_name!r} cannot be replicated: {exc} (its contract is "
            f"{outputs.get(KEY_SCHEMA_VERSION)!r}; {SCHEMA_VERSION} carries them). "
            f"Fix: {_fix(primary)}."
        ) from exc
    # The password stays a secret wherever the replica passes it.
    source = dataclasses.replace(
        source, replication_password=pulumi.Output.secret(source.replication_password)
    )
    return ReplicaPlan(source, dr.mode, dr.role, dr.dns_zone)


def resolve_release(
    config: StageConfig, upstream: Upstream | None, current_revision: str
) -> ResolvedRelease:
    """A pin wins (rollback, hotfix, or the entry stage's build); else the upstream's release."""
    pin = config.release_pin
    if pin is not None:
        manifest = ReleaseManifest(
            pin.app_version, pin.artifact, pin.template_revision or current_revision
        )
        return ResolvedRelease(manifest, "pinned")
    if upstream is None:
        # parse_stage_config guarantees a pin or an upstream; this guards direct callers.
        raise PromotionError(f"stage {config.stage!r} has neither a pinned release nor an upstream")
    return ResolvedRelease(upstream.release, f"promoted from {upstream.stage}")
