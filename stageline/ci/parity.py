"""Parity between two stages: what differs because their config says so, and what is drift.

Stages are one template given different values, so two stages' planned resources should differ
only where their values do. `compare` reports, from stage A's side against its peer B:

1. **Config values** (`expected`): every compared value that differs, the key as the subject
   (`compute.size`, `medium in staging, large in prod`). Compared: `tier`, `target`, `region`,
   every value of the spec sections (network, compute, database, storage, observability) and
   `protectData`, each `disasterRecovery` value (`unset` on a stage that is not a replica),
   whether `dbPassword` is given, and the target's own section (`<target>.<key>`). Not
   compared, because they are each stage's identity and differ by design: `stage`,
   `promotesFrom`, `routableWith`, `release`, `network.cidr`, `disasterRecovery.drillCidr`.
2. **Resources**, custom resources (and reads) counted by type; components only group
   resources, so their children are what is counted.
   - A type on both sides in different numbers is `expected`: counts come from config (zones,
     instance counts, standbys). The detail names the differing values of its concern, if any.
   - A type on one side only is `expected` when the config explains it, else `structural`.
     The config explains it when the stages' `target` or any `disasterRecovery` value differs
     (they change what every concern is made of: a replica instead of a primary, failover
     routing), or when a value of the resource's concern differs. A resource's concern is the
     `<concern>` of the nearest `stageline:<concern>:<Type>` component above it; its values are
     the spec section of that name (`database.*`, with `dbPassword` for the database). A concern
     the spec has no section for (one a target adds, such as a site) is explained by the
     target's own section; a resource outside every concern (the stack's reference to its
     upstream) by `promotesFrom` and whether a release is pinned. Where a type sits under
     several concerns, every one of them must be explained.

The rule is coarse on purpose: any differing value of a concern explains any of its resource
types (a different storage retention also explains a missing versioning resource), so drift is
reported only where no config value could account for it; sizes and counts are never drift.

Nothing here knows a target or a stage by name: concerns and keys come from the spec and from
the plans' own type tokens.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from components.spec import SECTIONS, camel
from stageline.ci.report import ParityItem
from stageline.config import StageConfig
from stageline.model import DisasterRecovery
from stageline.plan.recorder import PlannedResource
from stageline.plan.runner import StagePlan

COMPONENT_PREFIX = "stageline:"
IDENTITY_KEYS = frozenset({"network.cidr", "disasterRecovery.drillCidr"})
"""Values every stage has its own of by design (stage, promotesFrom, routableWith and release
are not read into the compared values at all)."""
DR_PREFIX = "disasterRecovery."
CONCERN_EXTRAS: dict[str, tuple[str, ...]] = {"database": ("dbPassword",)}
"""Compared values outside a concern's section that shape it: a given password replaces the
generated one."""
STAGE_KEYS = ("promotesFrom", "release")
"""What explains a resource outside every concern: the stack's reference to its upstream."""
UNSET = "unset"


def _shown(value: Any) -> str:
    if value is None:
        return UNSET
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value) or "[]"
    return str(value)


def _flatten(prefix: str, value: Any) -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}", inner)
    else:
        yield prefix, _shown(value)


def config_values(config: StageConfig) -> dict[str, str]:
    """The compared values of a stage's config, stack-file keys to their values as text."""
    values = {"tier": config.tier, "target": config.target, "region": config.region}
    for section in SECTIONS:
        spec_section = getattr(config.spec, section)
        for f in dataclasses.fields(spec_section):
            values[f"{section}.{camel(f.name)}"] = _shown(getattr(spec_section, f.name))
    values["protectData"] = _shown(config.spec.protect_data)
    dr = config.disaster_recovery
    for f in dataclasses.fields(DisasterRecovery):
        values[f"{DR_PREFIX}{camel(f.name)}"] = _shown(getattr(dr, f.name) if dr else None)
    values["dbPassword"] = "given" if config.has_db_password else "generated"
    values.update(_flatten(config.target, config.target_settings))
    return {k: v for k, v in values.items() if k not in IDENTITY_KEYS}


def _stage_values(config: StageConfig) -> dict[str, str]:
    """What explains resources outside the spec's concerns: the upstream and a pinned release."""
    values = (_shown(config.promotes_from), "pinned" if config.release_pin else "promoted")
    return dict(zip(STAGE_KEYS, values, strict=True))


def _differing(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    return [k for k in dict.fromkeys([*a, *b]) if a.get(k, UNSET) != b.get(k, UNSET)]


def _concern_of(resource: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> str | None:
    parent = by_urn.get(resource.parent)
    while parent is not None:
        if parent.type.startswith(COMPONENT_PREFIX):
            return parent.type.split(":")[1]
        parent = by_urn.get(parent.parent)
    return None


def _inventory(plan: StagePlan) -> tuple[Counter[str], dict[str, set[str | None]]]:
    """Custom resources counted by type, and the concerns each type sits under."""
    by_urn = {r.urn: r for r in plan.resources}
    counts: Counter[str] = Counter()
    concerns: dict[str, set[str | None]] = {}
    for resource in plan.resources:
        if not resource.custom:
            continue
        counts[resource.type] += 1
        concerns.setdefault(resource.type, set()).add(_concern_of(resource, by_urn))
    return counts, concerns


def _concern_keys(concern: str | None, differing: list[str], target_keys: set[str]) -> list[str]:
    """The differing values that explain a resource of `concern` (None: outside every one)."""
    if concern is None:
        return [k for k in differing if k in STAGE_KEYS]
    if concern in SECTIONS:
        own = [k for k in differing if k.startswith(f"{concern}.")]
        return own + [k for k in differing if k in CONCERN_EXTRAS.get(concern, ())]
    return [k for k in differing if k in target_keys]


def compare(
    a: StagePlan, b: StagePlan, config_a: StageConfig, config_b: StageConfig
) -> list[ParityItem]:
    """Stage A against its peer B (see the module docstring for the rule): config differences
    first, in the config's order, then resource types in name order."""
    name_a, name_b = a.stack, b.stack
    values_a, values_b = config_values(config_a), config_values(config_b)
    differing = _differing(values_a, values_b)

    def both(key: str) -> str:
        return f"{values_a.get(key, UNSET)} in {name_a}, {values_b.get(key, UNSET)} in {name_b}"

    items = [ParityItem(peer=name_b, kind="expected", subject=k, detail=both(k)) for k in differing]

    explaining = differing + _differing(_stage_values(config_a), _stage_values(config_b))
    target_keys = {
        k
        for k in [*values_a, *values_b]
        if k.startswith((f"{config_a.target}.", f"{config_b.target}."))
    }
    # The target and the DR role change what every concern is made of.
    shaping = [k for k in differing if k == "target"]
    shaping += ["disasterRecovery"] if any(k.startswith(DR_PREFIX) for k in differing) else []
    counts_a, concerns_a = _inventory(a)
    counts_b, concerns_b = _inventory(b)
    for kind in sorted(set(counts_a) | set(counts_b)):
        n_a, n_b = counts_a[kind], counts_b[kind]
        if n_a == n_b:
            continue
        concerns = concerns_a.get(kind, set()) | concerns_b.get(kind, set())
        keys = {c: _concern_keys(c, explaining, target_keys) for c in concerns}
        named = shaping + sorted({k for ks in keys.values() for k in ks})
        sides = f"{n_a} in {name_a}, {n_b} in {name_b}"
        if n_a and n_b:
            why = f"; differing: {', '.join(named)}" if named else ""
            items.append(ParityItem(peer=name_b, kind="expected", subject=kind, detail=sides + why))
        elif shaping or all(keys.values()):
            because = ", ".join(shaping or named)
            items.append(
                ParityItem(
                    peer=name_b,
                    kind="expected",
                    subject=kind,
                    detail=f"{sides}; explained by differing {because}",
                )
            )
        else:
            unexplained = [c for c, ks in keys.items() if not ks]
            where = ", ".join(sorted(c or "the stack itself" for c in unexplained))
            items.append(
                ParityItem(
                    peer=name_b,
                    kind="structural",
                    subject=kind,
                    detail=f"{sides}; no config value of its concern ({where}) differs",
                )
            )
    return items
