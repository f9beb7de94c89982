"""The values every policy works on: a resource as its type and inputs, the stage it belongs to,
and what a policy reports. Plain frozen data, so the offline plan, the engine's analyzer and the
tests build them the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["mandatory", "advisory"]

PRODUCTION_TIER = "production"
"""The tier (components/spec.py Tier) whose data must be protected and backed up."""

STACK_TYPE = "pulumi:pulumi:Stack"
"""Stage-wide policies (a DR stage's region) report against the stack resource."""


@dataclass(frozen=True)
class Secret:
    """An input marked secret (Pulumi secret): its text never counts as written in plain."""

    value: Any


class _Unknown:
    """An input the engine does not know yet during a preview; policies skip it."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class StageContext:
    """The stage a resource belongs to."""

    stage: str
    tier: str
    """components/spec.py Tier: ephemeral, development, preproduction or production."""
    region: str
    """Its region, or its site on an on-prem target."""
    primary_region: str | None = None
    """For a DR stage, its primary's region (or site); None for any other stage."""


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it."""

    type: str
    name: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    urn: str = ""
    protect: bool = False
    retain_on_delete: bool = False


@dataclass(frozen=True)
class Problem:
    """What a target's check found: the property (dotted path), its value, what is wrong and the
    fix. A policy turns it into a Finding."""

    property: str
    value: Any
    detail: str
    fix: str


@dataclass(frozen=True)
class Finding:
    """One violation; the same fields as stageline.ci.report.Violation."""

    policy: str
    level: Level
    urn: str
    type: str
    message: str
    fix: str
