"""A stack's `stageline:` config, parsed into a typed StageConfig and validated.

`parse_stage_config` is pure: it takes the values the engine hands the program (strings, with
objects as JSON) and returns a StageConfig or raises ConfigError listing every problem. The
program reads those values from `pulumi.Config`; offline plans read them from the stack file.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from components.errors import ConfigIssue, raise_if_any
from components.spec import (
    TIERS,
    EnvironmentSpec,
    camel,
    parse_spec,
    validate_spec,
    validate_target_region,
)
from components.targets import TARGET_NAMES, is_target, target_of, validate_for_target
from stageline import PROJECT

DrMode = Literal["pilot-light", "warm-standby"]
STAGE_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
ENTRY_TIERS = ("ephemeral", "development")
"""Tiers that may run a pinned release without an upstream: where releases enter."""

SCALAR_KEYS = ("stage", "tier", "target", "region", "promotesFrom")
OBJECT_KEYS = (
    "routableWith",
    "disasterRecovery",
    "release",
    "network",
    "compute",
    "database",
    "storage",
    "observability",
    "protectData",
    *TARGET_NAMES,  # each target's own section, e.g. `stageline:<target>: {...}`
)
SECRET_KEYS = ("dbPassword",)
KNOWN_KEYS = SCALAR_KEYS + OBJECT_KEYS + SECRET_KEYS
ENGINE_NAMESPACE = "pulumi"
"""The engine's own keys (`pulumi:template`, ...), which no provider SDK declares."""
CLOSE_MATCH = 0.8
"""difflib ratio above which an unknown provider key is taken for a typo of a known one."""


@dataclass(frozen=True)
class ReleasePin:
    """A release fixed in config: the entry stage's build, or a rollback/hotfix pin."""

    app_version: str
    artifact: str
    template_revision: str | None = None
    """Defaults to the revision of the template being run."""


@dataclass(frozen=True)
class DisasterRecovery:
    mode: DrMode
    """`pilot-light` keeps compute at zero until failover; `warm-standby` runs the minimum."""


@dataclass(frozen=True)
class StageConfig:
    stack: str
    """Pulumi stack name; equals `stage` except for ephemeral copies such as `ci-1234`."""
    stage: str
    tier: str
    target: str
    region: str
    spec: EnvironmentSpec
    promotes_from: str | None = None
    routable_with: tuple[str, ...] = ()
    disaster_recovery: DisasterRecovery | None = None
    release_pin: ReleasePin | None = None
    has_db_password: bool = False
    target_settings: dict[str, Any] = field(default_factory=dict)
    """The stage's target's own section (`stageline:<target>`) as written; empty if absent."""


def _string(values: Mapping[str, Any], key: str, issues: list[ConfigIssue]) -> str | None:
    value = values.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        issues.append(ConfigIssue(key, value, "not a string", f"set {key} to a plain name"))
        return None
    return value


def _parse_release(raw: Any, issues: list[ConfigIssue]) -> ReleasePin | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw.get("appVersion") or not raw.get("artifact"):
        issues.append(
            ConfigIssue(
                "release",
                raw,
                "a pinned release needs appVersion and artifact",
                "set release: {appVersion: 1.2.3, artifact: registry/app:1.2.3}",
            )
        )
        return None
    unknown = set(raw) - {"appVersion", "artifact", "templateRevision"}
    if unknown:
        issues.append(
            ConfigIssue(
                "release",
                raw,
                f"unknown keys {', '.join(sorted(unknown))}",
                "use appVersion, artifact and optionally templateRevision",
            )
        )
    revision = raw.get("templateRevision")
    return ReleasePin(
        str(raw["appVersion"]), str(raw["artifact"]), str(revision) if revision else None
    )


def _parse_dr(raw: Any, issues: list[ConfigIssue]) -> DisasterRecovery | None:
    if raw is None:
        return None
    modes = get_args(DrMode)
    mode = raw.get("mode") if isinstance(raw, Mapping) else None
    if mode not in modes:
        issues.append(
            ConfigIssue(
                "disasterRecovery.mode", mode, "unknown DR mode", f"use one of {', '.join(modes)}"
            )
        )
        return None
    return DisasterRecovery(mode)


def _parse_routable(raw: Any, issues: list[ConfigIssue]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        issues.append(
            ConfigIssue("routableWith", raw, "not a list of stage names", "write [prod, staging]")
        )
        return ()
    return tuple(raw)


def decode_engine_values(raw: Mapping[str, str]) -> tuple[dict[str, Any], list[ConfigIssue]]:
    """Engine config strings to Python values: objects, lists, booleans and numbers are JSON."""
    values: dict[str, Any] = {}
    issues: list[ConfigIssue] = []
    for key, text in raw.items():
        if key in OBJECT_KEYS:
            try:
                values[key] = json.loads(text)
            except json.JSONDecodeError:
                issues.append(
                    ConfigIssue(
                        key, text, "not a structured value", f"write {key} as YAML, not a string"
                    )
                )
        elif key not in KNOWN_KEYS:
            # Decoded as the stack file wrote it, so an unknown key's value reads as given.
            try:
                values[key] = json.loads(text)
            except json.JSONDecodeError:
                values[key] = text
        else:
            values[key] = text
    return values, issues


def unknown_key_issues(
    values: Mapping[str, Any], secret_keys: frozenset[str] | set[str] = frozenset()
) -> list[ConfigIssue]:
    """Every `stageline:` key the schema does not know: a silently ignored typo could drop data
    protection (`protectDat`) or a whole section (`netwrok`)."""
    issues: list[ConfigIssue] = []
    for key in values:
        if key in KNOWN_KEYS:
            continue
        close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
        hint = f"did you mean {PROJECT}:{close[0]}? " if close else ""
        issues.append(
            ConfigIssue(
                str(key),
                "(secret, not shown)" if key in secret_keys else values[key],
                "unknown key, ignored by stageline",
                f"{hint}rename or remove it; known keys: {', '.join(KNOWN_KEYS)}",
            )
        )
    return issues


@functools.cache
def provider_config_keys(namespace: str) -> frozenset[str] | None:
    """The config keys the installed SDK of a provider namespace reads (`<namespace>:region`),
    or None when no SDK for it is installed."""
    package = f"pulumi_{namespace.replace('-', '_')}"
    if not re.fullmatch(r"[a-z][a-z0-9-]*", namespace) or importlib.util.find_spec(package) is None:
        return None
    try:
        module = importlib.import_module(f"{package}.config")
        # Each key is a property of the SDK's generated config module class (snake_case name).
        exportable = module.vars._ExportableConfig
    except (ImportError, AttributeError):
        return None
    return frozenset(camel(name) for name, v in vars(exportable).items() if isinstance(v, property))


def provider_key_issues(other: Mapping[str, Any]) -> list[ConfigIssue]:
    """Keys of provider namespaces that are clearly typos of a key the provider knows
    (`<provider>:regoin`); keys that are merely unfamiliar are left to the provider."""
    issues: list[ConfigIssue] = []
    for full_key, value in other.items():
        namespace, sep, key = full_key.partition(":")
        if not sep:
            close = difflib.get_close_matches(namespace, KNOWN_KEYS, n=1)
            suggestion = close[0] if close else "<key>"
            issues.append(
                ConfigIssue(
                    namespace,
                    value,
                    "a config key without a namespace",
                    f"write it as {PROJECT}:{suggestion}",
                    namespace="",
                )
            )
            continue
        if namespace == ENGINE_NAMESPACE:
            continue
        if namespace != PROJECT and difflib.get_close_matches(namespace, [PROJECT], cutoff=0.8):
            issues.append(
                ConfigIssue(
                    key,
                    value,
                    f"namespace {namespace!r} is not {PROJECT!r}, so stageline ignores it",
                    f"write {PROJECT}:{key}",
                    namespace=namespace,
                )
            )
            continue
        known = provider_config_keys(namespace)
        if not known or key in known or "." in key:
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=CLOSE_MATCH)
        if close:
            issues.append(
                ConfigIssue(
                    key,
                    value,
                    f"not a setting of the {namespace} provider, which would ignore it",
                    f"did you mean {namespace}:{close[0]}?",
                    namespace=namespace,
                )
            )
    return issues


def parse_stage_config(
    stack: str,
    values: Mapping[str, Any],
    secret_keys: frozenset[str] | set[str],
    other: Mapping[str, Any] | None = None,
) -> StageConfig:
    """Validate one stack's config. `values` are decoded (see decode_engine_values); `other`
    holds the keys of every other namespace with their prefix (`<provider>:region`)."""
    issues = unknown_key_issues(values, secret_keys) + provider_key_issues(other or {})

    stage = _string(values, "stage", issues)
    if stage is None or not STAGE_NAME.fullmatch(stage):
        issues.append(
            ConfigIssue("stage", stage, "missing or not a stage name", "set stage: to e.g. qa")
        )
    elif stack != stage and not stack.startswith(f"{stage}-"):
        issues.append(
            ConfigIssue(
                "stage",
                stage,
                f"stack {stack!r} is neither {stage!r} nor an ephemeral copy {stage}-<id>",
                f"name the stack {stage} or {stage}-<id>, or fix stage",
            )
        )
    tier = _string(values, "tier", issues) or "development"
    if tier not in TIERS:
        issues.append(ConfigIssue("tier", tier, "unknown tier", f"use one of {', '.join(TIERS)}"))
    target = _string(values, "target", issues)
    region = _string(values, "region", issues)
    if target is None:
        issues.append(
            ConfigIssue(
                "target", None, "is required", f"set target: to one of {', '.join(TARGET_NAMES)}"
            )
        )
    elif region is None:
        issues.append(
            ConfigIssue("region", None, "is required", f"set region: to a {target} region")
        )
    else:
        issues += validate_target_region(target, region)

    promotes_from = _string(values, "promotesFrom", issues)
    routable = _parse_routable(values.get("routableWith"), issues)
    dr = _parse_dr(values.get("disasterRecovery"), issues)
    pin = _parse_release(values.get("release"), issues)

    if promotes_from is not None and promotes_from == stage:
        issues.append(
            ConfigIssue(
                "promotesFrom",
                promotes_from,
                "a stage cannot promote from itself",
                "name the stage before it",
            )
        )
    if promotes_from is None:
        if dr is not None:
            issues.append(
                ConfigIssue(
                    "promotesFrom",
                    None,
                    "a DR replica must name its primary",
                    "set promotesFrom: to the primary stage, e.g. prod",
                )
            )
        elif tier not in ENTRY_TIERS:
            issues.append(
                ConfigIssue(
                    "promotesFrom",
                    None,
                    f"a {tier} stage deploys only what an upstream stage verified",
                    "set promotesFrom: to the stage before it (pin stageline:release for a hotfix)",
                )
            )
        elif pin is None:
            issues.append(
                ConfigIssue(
                    "promotesFrom",
                    None,
                    "an entry stage without an upstream needs a pinned release",
                    "set promotesFrom: to an upstream stage, or release: {appVersion, artifact}",
                )
            )

    has_password = "dbPassword" in values
    if has_password and "dbPassword" not in secret_keys:
        issues.append(
            ConfigIssue(
                "dbPassword",
                "(plain text, not shown)",
                "the database password is stored in plain text",
                f"run `pulumi config rm {PROJECT}:dbPassword` and "
                f"`pulumi config set --secret {PROJECT}:dbPassword`, or remove it to generate one",
            )
        )

    # Each target reads its own section; another target's section would be ignored.
    target_settings = values.get(target) if target is not None and is_target(target) else None
    if target is not None and is_target(target):
        issues += target_of(target).parse_settings(target_settings)[1]
    for other in TARGET_NAMES:
        if other != target and values.get(other) is not None:
            issues.append(
                ConfigIssue(
                    other,
                    values[other],
                    f"only applies to target {other}, not {target}",
                    f"remove the {other} section or set target: {other}",
                )
            )

    spec, spec_issues = parse_spec(values)
    issues += spec_issues
    if spec is not None and target is not None and is_target(target) and region:
        issues += validate_spec(spec, target, region, tier)
        issues += validate_for_target(target, spec, region, stack)

    raise_if_any(issues, f"stack {stack!r}")
    assert spec is not None and stage is not None and target is not None and region is not None
    return StageConfig(
        stack=stack,
        stage=stage,
        tier=tier,
        target=target,
        region=region,
        spec=spec,
        promotes_from=promotes_from,
        routable_with=routable,
        disaster_recovery=dr,
        release_pin=pin,
        has_db_password=has_password,
        target_settings=dict(target_settings or {}),
    )
