"""The policies: generic rules over one resource (its type and inputs) and its stage.

Each policy is a pure function `(resource, facts, context) -> list[Finding]`: the target's
`TargetPolicy` says where to look, the rule decides what is wrong and words the message and the
fix. The same functions run over an offline plan (stageline/policy_gate.py), inside the engine
(policy/__main__.py) and in the table tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from policy.facts import TargetPolicy
from policy.model import PRODUCTION_TIER, STACK_TYPE, Finding, Level, Problem, Resource, Secret
from policy.model import StageContext as Context

STAGE_TAG = "stageline-stage"

SIZE_ORDER: tuple[str, ...] = ("xsmall", "small", "medium", "large", "xlarge")
"""components/spec.py SIZE_CLASSES, smallest first."""
USUAL_SIZES: dict[str, tuple[str, str]] = {
    "ephemeral": ("xsmall", "small"),
    "development": ("xsmall", "medium"),
    "preproduction": ("small", "large"),
    "production": ("medium", "xlarge"),
}
"""Tier -> the smallest and largest size class its stages usually run (advisory only)."""

ADMIN_PORTS: dict[int, str] = {
    22: "SSH",
    3389: "RDP",
    5432: "PostgreSQL",
    3306: "MySQL",
    1433: "SQL Server",
    1521: "Oracle",
    27017: "MongoDB",
    6379: "Redis",
}
"""Ports that must never be open to the whole internet: remote shells and databases."""
OPEN_SOURCES = frozenset({"0.0.0.0/0", "::/0", "*", "internet", "any"})
"""Sources that mean anyone: every IPv4 or IPv6 address, or Azure's `*` / `Internet` tags."""


@dataclass(frozen=True)
class Policy:
    name: str
    level: Level
    description: str
    check: Callable[[Resource, TargetPolicy, Context], list[Finding]]


def _finding(policy: str, level: Level, resource: Resource, problem: Problem) -> Finding:
    value = "<secret>" if isinstance(problem.value, Secret) else repr(problem.value)
    return Finding(
        policy=policy,
        level=level,
        urn=resource.urn or resource.name,
        type=resource.type,
        message=f"{resource.name}: {problem.property} = {value}: {problem.detail}",
        fix=problem.fix,
    )


def encryption_at_rest(resource: Resource, facts: TargetPolicy, context: Context) -> list[Finding]:
    check = facts.encryption.get(resource.type)
    if check is None:
        return []
    return [_finding("encryption-at-rest", "mandatory", resource, p) for p in check(resource)]


def no_public_database(resource: Resource, facts: TargetPolicy, context: Context) -> list[Finding]:
    check = facts.public_database.get(resource.type)
    if check is None:
        return []
    return [_finding("no-public-database", "mandatory", resource, p) for p in check(resource)]


def _admin_ports(ports: tuple[tuple[int, int], ...] | None) -> list[int]:
    if ports is None:
        return list(ADMIN_PORTS)
    return [port for port in ADMIN_PORTS if any(low <= port <= high for low, high in ports)]


def no_open_admin_ingress(
    resource: Resource, facts: TargetPolicy, context: Context
) -> list[Finding]:
    rules_of = facts.ingress.get(resource.type)
    if rules_of is None:
        return []
    findings: list[Finding] = []
    for rule in rules_of(resource):
        anyone = sorted({s for s in rule.sources if s.lower() in OPEN_SOURCES})
        ports = _admin_ports(rule.ports)
        if not anyone or not ports:
            continue
        opened = ", ".join(f"{port} ({ADMIN_PORTS[port]})" for port in ports)
        problem = Problem(
            rule.property,
            anyone[0],
            f"lets anyone on the internet reach port {opened}",
            "allow only the stage's own network or a bastion's range on these ports "
            "(reach machines through the provider's session manager instead of open SSH)",
        )
        findings.append(_finding("no-open-admin-ingress", "mandatory", resource, problem))
    return findings


def production_data_protection(
    resource: Resource, facts: TargetPolicy, context: Context
) -> list[Finding]:
    check = facts.data.get(resource.type)
    if check is None or context.tier != PRODUCTION_TIER:
        return []
    problems = check(resource)
    if problems is None:
        return []
    if not resource.protect:
        problems.append(
            Problem(
                "protect",
                False,
                "a production data resource that a destroy or a replacement would delete",
                "set stageline:protectData: true in the stage's stack file",
            )
        )
    return [_finding("production-data-protection", "mandatory", resource, p) for p in problems]


def dr_region(resource: Resource, facts: TargetPolicy, context: Context) -> list[Finding]:
    if resource.type != STACK_TYPE or context.primary_region is None:
        return []
    if context.region != context.primary_region:
        return []
    problem = Problem(
        "stageline:region",
        context.region,
        "a DR stage in its primary's region (or site) does not survive that region's loss",
        "set stageline:region to another region or site than the primary's",
    )
    return [_finding("dr-region", "mandatory", resource, problem)]


def _tag_value(tags: object, key: str) -> object:
    """The value of tag `key` in a map, or in a list of {key, value} (autoscaling groups)."""
    if isinstance(tags, dict):
        return tags.get(key)
    if isinstance(tags, list | tuple):
        for tag in tags:
            if isinstance(tag, dict) and tag.get("key") == key:
                return tag.get("value")
    return None


def stage_tag(resource: Resource, facts: TargetPolicy, context: Context) -> list[Finding]:
    from policy.values import get, plain

    path = facts.tags.get(resource.type)
    if path is None:
        return []
    tags = plain(get(resource.inputs, path))
    value = plain(_tag_value(tags, STAGE_TAG))
    if value == context.stage:
        return []
    problem = Problem(
        f"{path}.{STAGE_TAG}",
        value,
        f"every taggable resource must carry {STAGE_TAG}={context.stage}",
        f"give this resource the stage's tags (the template's `tags` argument) as `{path}`",
    )
    return [_finding("stage-tag", "mandatory", resource, problem)]


_SECRET_KEY = r"[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key)"
_ASSIGNMENT = re.compile(
    # `KEY=value` (shell, env files) or `key: value` (YAML); not part of an ARN or a path
    # (`...:secret:name`), whose colon has no space after it.
    rf"(?i)(?<![\w:/.-])({_SECRET_KEY})[\"']?(?:\s*=\s*|\s*:\s+)[\"']?"
    rf"(?P<value>[^\s\"'$%{{}}()<>`]{{6,}})"
)
_KEY_BLOCK = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")
_AWS_KEY = re.compile(r"\bAKIA[0-9A-Z]{16}\b")


def plaintext_secret(text: str) -> str | None:
    """What looks like a secret written into `text` in plain, or None.

    A password-like key assigned a literal (`DB_PASSWORD=hunter2...`, `password: ...`), a private
    key block or an AWS access key id. A value read at boot (`$VAR`, `$(command)`, `%s`,
    `{{ template }}`) is not a secret in the text.
    """
    match = _ASSIGNMENT.search(text)
    if match:
        return f"{match.group(1)}=…"
    if _KEY_BLOCK.search(text):
        return "a private key block"
    if _AWS_KEY.search(text):
        return "an AWS access key id"
    return None


def no_plaintext_boot_secret(
    resource: Resource, facts: TargetPolicy, context: Context
) -> list[Finding]:
    boot_of = facts.boot.get(resource.type)
    if boot_of is None:
        return []
    findings: list[Finding] = []
    for boot in boot_of(resource):
        if isinstance(boot.value, Secret) or not isinstance(boot.value, str):
            continue
        found = plaintext_secret(boot.value)
        if found is None:
            continue
        problem = Problem(
            boot.property,
            found,
            "a secret written in plain into boot data, readable by anyone who can read the "
            "machine's metadata or seed, and stored unencrypted in the state",
            "read the secret at boot from the secret store, or mark the value secret "
            "(pulumi.Output.secret) so it is encrypted in the state",
        )
        findings.append(_finding("no-plaintext-boot-secret", "mandatory", resource, problem))
    return findings


def size_within_tier(resource: Resource, facts: TargetPolicy, context: Context) -> list[Finding]:
    sizes_of = facts.sizes.get(resource.type)
    usual = USUAL_SIZES.get(context.tier)
    if sizes_of is None or usual is None:
        return []
    low, high = (SIZE_ORDER.index(s) for s in usual)
    findings: list[Finding] = []
    for reading in sizes_of(resource):
        if reading.size is None or low <= SIZE_ORDER.index(reading.size) <= high:
            continue
        problem = Problem(
            reading.property,
            reading.value,
            f"size {reading.size}, outside the {usual[0]} to {usual[1]} that {context.tier} "
            "stages usually run",
            f"use a size from {usual[0]} to {usual[1]} in the stack file, or keep it if this "
            "stage really needs it",
        )
        findings.append(_finding("size-within-tier", "advisory", resource, problem))
    return findings


POLICIES: tuple[Policy, ...] = (
    Policy(
        "encryption-at-rest",
        "mandatory",
        "Databases, buckets and disks are encrypted at rest.",
        encryption_at_rest,
    ),
    Policy(
        "no-public-database",
        "mandatory",
        "No database is reachable from the internet.",
        no_public_database,
    ),
    Policy(
        "no-open-admin-ingress",
        "mandatory",
        "No rule lets 0.0.0.0/0 or ::/0 in to SSH, RDP or database ports.",
        no_open_admin_ingress,
    ),
    Policy(
        "production-data-protection",
        "mandatory",
        "Production data has deletion protection and backups.",
        production_data_protection,
    ),
    Policy(
        "dr-region",
        "mandatory",
        "A DR stage runs in another region or site than its primary.",
        dr_region,
    ),
    Policy(
        "stage-tag",
        "mandatory",
        f"Every taggable resource carries the {STAGE_TAG} tag or label.",
        stage_tag,
    ),
    Policy(
        "no-plaintext-boot-secret",
        "mandatory",
        "No secret is written in plain into user data, custom data or a cloud-init seed.",
        no_plaintext_boot_secret,
    ),
    Policy(
        "size-within-tier",
        "advisory",
        "Machine and database sizes stay within the usual range of the stage's tier.",
        size_within_tier,
    ),
)
POLICY_NAMES: tuple[str, ...] = tuple(p.name for p in POLICIES)


def policy_named(name: str) -> Policy:
    for policy in POLICIES:
        if policy.name == name:
            return policy
    raise KeyError(name)
