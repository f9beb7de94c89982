"""The one typed model of a stack's `stageline:` namespace.

`Namespace` is every key a stack file may set under `stageline:`: the stage keys that relate a
stage to the others (`StageKeys`, also what the stage graph reads), the environment spec's
sections (`components.spec.EnvironmentSpec`), the database password, and one section per
target (`stageline:<target>`), handed to that target unparsed. Any other key is refused.
Cross-field and cross-stage rules stay in pure functions (`stageline.config`,
`stageline.graph`, `components.spec`) that read the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from components.model import (
    MODEL_CONFIG,
    Flag,
    Name,
    OptionalText,
    Says,
    Text,
    aliases,
    issue_error,
    read_field,
    read_leniently,
    section,
    text_keys,
)
from components.regions import TARGETS
from components.spec import EnvironmentSpec

DrMode = Literal["pilot-light", "warm-standby"]
DrRole = Literal["standby", "active"]
DEFAULT_TIER = "development"
"""The tier of a stage that names none."""
PRODUCTION_TIER = "production"
RELEASE_FIX = "set release: {appVersion: 1.2.3, artifact: registry/app:1.2.3}"
UNKNOWN_DR_MODE = ("unknown DR mode", f"use one of {', '.join(get_args(DrMode))}")
UNKNOWN_DR_ROLE = (
    "unknown DR role",
    "use standby, or let `stageline dr failover` record active",
)
DNS_NAME = r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"


PositiveWhole = Annotated[StrictInt, Field(gt=0)]
SECONDS = ("not a positive number of seconds", "use a whole number above 0, e.g. 300")
SECONDS_TEXTS = {"greater_than": SECONDS, "int_type": SECONDS}


def _dns_zone(zone: str | None) -> str | None:
    if zone is not None and not re.match(DNS_NAME, zone):
        raise issue_error(
            "not a DNS zone", "write a zone such as example.internal, without a trailing dot"
        )
    return zone


@dataclass(frozen=True, config=MODEL_CONFIG)
class ReleasePin:
    """A release fixed in config: the entry stage's build, or a rollback/hotfix pin."""

    app_version: Text
    artifact: Text
    template_revision: OptionalText = None
    """Defaults to the revision of the template being run."""


@dataclass(frozen=True, config=MODEL_CONFIG)
class DisasterRecovery:
    """A DR replica of the stage it promotes from (its primary)."""

    mode: Annotated[DrMode, Says({"missing": UNKNOWN_DR_MODE, "literal_error": UNKNOWN_DR_MODE})]
    """`pilot-light` keeps compute at zero until failover; `warm-standby` runs the minimum."""
    role: Annotated[DrRole, Says({"literal_error": UNKNOWN_DR_ROLE})] = "standby"
    """`standby` replicates from the primary. `stageline dr failover` records `active` once it
    has promoted the replica, so the template renders a standalone database and the next `up`
    keeps the failover. Default `standby`."""
    rpo_seconds: Annotated[PositiveWhole, Says(SECONDS_TEXTS)] = 300
    """Most data loss accepted, in seconds of replication lag: failover refuses past it
    (without --force), drills are judged by it. Default 300."""
    rto_seconds: Annotated[PositiveWhole, Says(SECONDS_TEXTS)] = 900
    """Longest accepted time from the start of a failover until the app is healthy; drills
    are judged by it. Default 900."""
    dns_zone: Annotated[
        OptionalText,
        Says(
            whole=(
                "not a DNS zone",
                "write a zone such as example.internal, without a trailing dot",
            )
        ),
        AfterValidator(_dns_zone),
    ] = None
    """Zone of the failover record `app.<zone>`. Default none: no failover routing; clients
    are pointed at the active side's ingress by hand."""
    drill_cidr: OptionalText = None
    """Network range of a drill's scratch replica, where it runs beside this stage (a site
    cannot hold two networks with one range). Default: this stage's own range."""


NOT_MINUTES = ("not a whole number of minutes", "use a whole number, 0 or more, e.g. 60")


@dataclass(frozen=True, config=MODEL_CONFIG)
class Gates:
    """What must hold before a release is promoted into the stage (`stageline promote`)."""

    approval: Flag | None = None
    """Someone must approve the promotion (`--approved-by`, or a GitHub environment's
    reviewer). Default: required on the production tier only. A promotion that widens ingress
    or IAM needs an approval whatever this says."""
    soak_minutes: Annotated[
        StrictInt, Field(ge=0), Says({"greater_than_equal": NOT_MINUTES, "int_type": NOT_MINUTES})
    ] = 0
    """Minutes the upstream's release must have run there, read from the upstream's update
    history. Default 0."""
    verify: Flag = True
    """The upstream's ingress `/healthz` must answer 200 with the release's appVersion before
    it moves on. Default true."""

    def approval_required(self, tier: str) -> bool:
        return self.approval if self.approval is not None else tier == PRODUCTION_TIER


def _release_shape(raw: Any) -> Any:
    """A pin names what to deploy; versions written as YAML numbers (`1.2`) are text."""
    if raw is None or isinstance(raw, ReleasePin):
        return raw
    if not isinstance(raw, Mapping) or not raw.get("appVersion") or not raw.get("artifact"):
        raise issue_error("a pinned release needs appVersion and artifact", RELEASE_FIX)
    unknown = set(raw) - set(aliases(ReleasePin))
    if unknown:
        raise issue_error(
            f"unknown keys {', '.join(sorted(map(str, unknown)))}",
            "use appVersion, artifact and optionally templateRevision",
        )
    revision = raw.get("templateRevision")
    return {
        "appVersion": str(raw["appVersion"]),
        "artifact": str(raw["artifact"]),
        "templateRevision": str(revision) if revision else None,
    }


def _dr_shape(raw: Any) -> Any:
    # `disasterRecovery: pilot-light` names no mode key: reported as the mode missing.
    return raw if raw is None or isinstance(raw, Mapping | DisasterRecovery) else {}


@dataclass(frozen=True, config=MODEL_CONFIG)
class StageKeys:
    """The keys that place a stage among the others (its name, where it runs, what it promotes
    from or pins): read from every stack file by the stage graph and the CLI, and by the
    stage's own validation."""

    stage: Name = None
    tier: Name = None
    """One of components.spec.TIERS; `tier_name` applies the default."""
    target: Name = None
    region: Name = None
    promotes_from: Name = None
    routable_with: Annotated[
        tuple[StrictStr, ...], Says(whole=("not a list of stage names", "write [prod, staging]"))
    ] = ()
    disaster_recovery: Annotated[DisasterRecovery | None, BeforeValidator(_dr_shape)] = None
    release: Annotated[ReleasePin | None, BeforeValidator(_release_shape)] = None
    gates: section(Gates) = Field(default_factory=Gates)

    @property
    def tier_name(self) -> str:
        return self.tier or DEFAULT_TIER


TargetSection = dict[str, Any] | None
"""A target's own section, `stageline:<target>`: the target parses it."""


def target_sections_model(targets: tuple[str, ...]) -> type:
    """The target sections of the namespace, `stageline:<target>`, each an unparsed object:
    one optional field per registered target, so a new target needs no edit here."""
    body: dict[str, Any] = {
        "__annotations__": dict.fromkeys(targets, TargetSection),
        **dict.fromkeys(targets),
    }
    return dataclass(frozen=True, config=MODEL_CONFIG)(type("TargetSections", (), body))


TargetSections: type = target_sections_model(TARGETS)


def target_section(sections: object, target: str) -> dict[str, Any] | None:
    """The section of `target` in `sections` (TargetSections or Namespace), if written."""
    # Only target sections are dicts: another key's name gives None here.
    found = getattr(sections, target, None)
    return found if isinstance(found, dict) else None


@dataclass(frozen=True, config=MODEL_CONFIG)
class Namespace(TargetSections, EnvironmentSpec, StageKeys):  # type: ignore[misc,valid-type]
    """Every key of the `stageline:` namespace; see the module docstring."""

    db_password: object = Field(default=None, repr=False)
    """Presence only: the program reads the secret itself through pulumi.Config."""

    @property
    def spec(self) -> EnvironmentSpec:
        return EnvironmentSpec(**{f.name: getattr(self, f.name) for f in fields(EnvironmentSpec)})


NAMESPACE_KEYS: tuple[str, ...] = aliases(Namespace)
TARGET_SECTIONS: tuple[str, ...] = aliases(TargetSections)
TEXT_KEYS: tuple[str, ...] = text_keys(Namespace)
"""Keys whose value is a plain name: the engine hands them over as given, not as JSON."""


def stage_keys(values: Mapping[str, Any]) -> StageKeys:
    """A stack file's stage keys, each bad one at its default: for relating the stage to
    others, while its own validation reports what is wrong with it."""
    return read_leniently(StageKeys, values) or StageKeys()


def protects_data(values: Mapping[str, Any]) -> bool:
    """Whether a stack file's data must survive a careless destroy: a production tier, or
    protectData. Read leniently, so a stage with other mistakes is still guarded."""
    protect = read_field(EnvironmentSpec, values, "protect_data")
    return protect is True or stage_keys(values).tier_name == PRODUCTION_TIER
