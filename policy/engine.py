"""The engine side of the pack: pulumi-policy's analyzer over the same rules.

pulumi-policy unwraps secrets before a policy sees the inputs, which would make every secret
boot text (a seed holding the database password, marked secret) look written in plain. `serve`
therefore has the inputs deserialized with their secrets kept as policy.model.Secret, and
`engine_value` turns pulumi-policy's proxies into the plain values the rules read (unknown
values as policy.model.UNKNOWN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policy.model import UNKNOWN, Resource, Secret, StageContext
from policy.rules import POLICIES, Policy

UNKNOWN_WIRE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""An unknown value on the wire (pulumi's rpc UNKNOWN)."""
CONTEXT_KEYS = ("stage", "tier", "region", "primaryRegion")


def pack_config(context: StageContext) -> dict[str, dict[str, Any]]:
    """The `--policy-pack-config` content that gives every policy the stage's context."""
    values: dict[str, Any] = {
        "stage": context.stage,
        "tier": context.tier,
        "region": context.region,
    }
    if context.primary_region is not None:
        values["primaryRegion"] = context.primary_region
    return {p.name: {"enforcementLevel": p.level, **values} for p in POLICIES}


def context_from_config(config: Mapping[str, Any]) -> StageContext:
    return StageContext(
        stage=str(config.get("stage", "")),
        tier=str(config.get("tier", "")),
        region=str(config.get("region", "")),
        primary_region=config.get("primaryRegion") or None,
    )


def engine_value(value: Any) -> Any:
    """Plain data from pulumi-policy's proxies; an unknown value becomes UNKNOWN."""
    from pulumi_policy.proxy import UnknownValueError  # type: ignore[import-untyped]

    def read(get: Any) -> Any:
        try:
            return engine_value(get())
        except UnknownValueError:
            return UNKNOWN

    if isinstance(value, str) and value == UNKNOWN_WIRE:
        return UNKNOWN
    if isinstance(value, str | bytes | Secret):
        return value
    if isinstance(value, Mapping):
        return {key: read(lambda key=key: value[key]) for key in list(value.keys())}
    if isinstance(value, Sequence):
        return [read(lambda i=i: value[i]) for i in range(len(value))]
    return value


SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""The signature value that marks a secret on the wire (pulumi's rpc SPECIAL_SECRET_SIG)."""
SIG_KEY = "4dabf18193072939515e22adb298388d"


def mark_secrets(value: Any) -> Any:
    """Wire properties with each secret replaced by a policy.model.Secret of its value."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(mark_secrets(value.get("value")))
        return {k: mark_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mark_secrets(v) for v in value]
    return value


def _keep_secrets() -> None:
    import pulumi_policy.policy as analyzer  # type: ignore[import-untyped]

    unwrapping = analyzer.deserialize_properties

    def deserialize(props: dict[str, Any], proxy_secrets: bool = False) -> Any:
        return unwrapping(mark_secrets(props), proxy_secrets)

    # The analyzer looks the function up by this name for every resource it analyzes.
    analyzer.deserialize_properties = deserialize


def _validator(policy: Policy):  # type: ignore[no-untyped-def]
    from policy.evaluate import facts_for

    def validate(args: Any, report_violation: Any) -> None:
        context = context_from_config(args.get_config() or {})
        resource = Resource(
            type=args.resource_type,
            name=args.name,
            inputs=engine_value(args.props),
            urn=args.urn,
            protect=bool(getattr(args.opts, "protect", False)),
        )
        for finding in policy.check(resource, facts_for(resource.type), context):
            report_violation(f"{finding.message}\nfix: {finding.fix}", finding.urn)

    return validate


def serve() -> None:
    """Start the analyzer (pulumi-policy reads the engine's address from argv)."""
    from pulumi_policy import (  # type: ignore[import-untyped]
        EnforcementLevel,
        PolicyConfigSchema,
        PolicyPack,
        ResourceValidationPolicy,
    )

    schema = PolicyConfigSchema(
        properties={key: {"type": "string"} for key in CONTEXT_KEYS}, required=[]
    )
    _keep_secrets()
    levels = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}
    PolicyPack(
        name="stageline-policy",
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=[
            ResourceValidationPolicy(
                name=p.name,
                description=p.description,
                validate=_validator(p),
                enforcement_level=levels[p.level],
                config_schema=schema,
            )
            for p in POLICIES
        ],
    )
