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
from typing import TYPE_CHECKING, Any

from components.errors import ConfigIssue, raise_if_any
from components.model import aliases, read_leniently, validate
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
from stageline.model import (
    NAMESPACE_KEYS,
    TARGET_SECTIONS,
    TEXT_KEYS,
    DisasterRecovery,
    Namespace,
    ReleasePin,
    StageKeys,
    TargetSections,
    target_section,
)

if TYPE_CHECKING:
    from stageline.stack_files import StackFile

STAGE_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
ENTRY_TIERS = ("ephemeral", "development")
"""Tiers that may run a pinned release without an upstream: where releases enter."""

SECRET_KEYS = ("dbPassword",)
KNOWN_KEYS = NAMESPACE_KEYS
OBJECT_KEYS = tuple(k for k in KNOWN_KEYS if k not in TEXT_KEYS + SECRET_KEYS)
"""Keys the engine hands over as JSON: objects, lists, booleans and numbers."""
ENGINE_NAMESPACE = "pulumi"
"""The engine's own keys (`pulumi:template`, ...), which no provider SDK declares."""
CLOSE_MATCH = 0.8
"""difflib ratio above which an unknown provider key is taken for a typo of a known one."""


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


def unknown_key_issue(
    key: str, value: Any, secret_keys: frozenset[str] | set[str] = frozenset()
) -> ConfigIssue:
    """A `stageline:` key the model does not know: a silently ignored typo could drop data
    protection (`protectDat`) or a whole section (`netwrok`)."""
    close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
    hint = f"did you mean {PROJECT}:{close[0]}? " if close else ""
    return ConfigIssue(
        str(key),
        "(secret, not shown)" if key in secret_keys else value,
        "unknown key, ignored by stageline",
        f"{hint}rename or remove it; known keys: {', '.join(KNOWN_KEYS)}",
    )


def unknown_key_issues(
    values: Mapping[str, Any], secret_keys: frozenset[str] | set[str] = frozenset()
) -> list[ConfigIssue]:
    """Every key of `values` the model does not know."""
    return [
        unknown_key_issue(key, values[key], secret_keys) for key in values if key not in KNOWN_KEYS
    ]


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
    model, found = validate(
        Namespace, values, unknown_at_root=lambda k, v: unknown_key_issue(k, v, secret_keys)
    )
    spec_keys = set(aliases(EnvironmentSpec))
    spec_issues = [i for i in found if i.key.split(".")[0] in spec_keys]
    issues = [i for i in found if i not in spec_issues]
    unknown = [i for i in issues if i.key in values and i.key not in KNOWN_KEYS]
    issues = unknown + provider_key_issues(other or {}) + issues[len(unknown) :]

    # Where the namespace does not validate, its cross-field rules still run on what does.
    keys: StageKeys = model or read_leniently(StageKeys, values) or StageKeys()
    sections = model or read_leniently(TargetSections, values)
    spec = model.spec if model else parse_spec(values)[0]

    stage = keys.stage
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
    tier = keys.tier_name
    if tier not in TIERS:
        issues.append(ConfigIssue("tier", tier, "unknown tier", f"use one of {', '.join(TIERS)}"))
    target, region = keys.target, keys.region
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

    promotes_from, dr, pin = keys.promotes_from, keys.disaster_recovery, keys.release
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

    has_password = SECRET_KEYS[0] in values
    if has_password and SECRET_KEYS[0] not in secret_keys:
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
    target_settings = target_section(sections, target) if target else None
    if target is not None and is_target(target):
        issues += target_of(target).parse_settings(target_settings)[1]
    for name in TARGET_SECTIONS:
        written = target_section(sections, name)
        if name != target and written is not None:
            issues.append(
                ConfigIssue(
                    name,
                    written,
                    f"only applies to target {name}, not {target}",
                    f"remove the {name} section or set target: {name}",
                )
            )

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
        routable_with=keys.routable_with,
        disaster_recovery=dr,
        release_pin=pin,
        has_db_password=has_password,
        target_settings=dict(target_settings or {}),
    )


def file_config(file: StackFile) -> StageConfig:
    """A stack file's config read as the program reads it: the engine writes values back as
    text (`protectData: "true"`), which it decodes the same way for the program."""
    engine, _ = file.pulumi_config()
    prefix = f"{PROJECT}:"
    raw = {k.removeprefix(prefix): v for k, v in engine.items() if k.startswith(prefix)}
    values, issues = decode_engine_values(raw)
    raise_if_any(issues, f"stack {file.name!r}")
    return parse_stage_config(file.name, values, file.secret_keys, file.other_values)
