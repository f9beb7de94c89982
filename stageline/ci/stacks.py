"""Ephemeral CI stacks: `ci-<id>` made from the `ci` template for one pull request or run,
tagged with a time to live, and swept by `stageline ci gc` once it has passed.

A stack's age is read from the backend: the start of its first update in its history, or for
a stack never updated, the time the backend gives it in its stack list (set when the stack was
made). Its time to live is its `stageline:ttl` tag, written before its first update so that a
failed deploy is swept too.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pulumi import automation as auto

from components.errors import ConfigError
from stageline.config import file_config
from stageline.gates.record import as_utc, read_history
from stageline.workspace import Project

TEMPLATE = "ci"
PREFIX = f"{TEMPLATE}-"
TTL_TAG = "stageline:ttl"
TEMPLATE_TAG = "stageline:template"
DEFAULT_TTL = "24h"
ID = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_DURATION = re.compile(r"(?P<amount>\d+)(?P<unit>[smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class CiStackError(ValueError):
    """A bad id or duration: the message names the value and the fix."""


def parse_duration(text: str, what: str = "duration") -> timedelta:
    found = _DURATION.fullmatch(text.strip())
    if found is None or int(found["amount"]) == 0:
        raise CiStackError(
            f"{what} {text!r} is not a duration: write a whole number above 0 and a unit, "
            "s, m, h or d (e.g. 90s, 30m, 24h, 7d)"
        )
    return timedelta(**{_UNITS[found["unit"]]: int(found["amount"])})


def stack_name(project: Project, ci_id: str) -> str:
    """`ci-<id>`, refused before anything exists when the id is not a plain name or when the
    name breaks a rule of the template's target (a resource name too long, say)."""
    if not ID.fullmatch(ci_id):
        raise CiStackError(
            f"--id {ci_id!r} is not a plain name: use lower-case letters, digits and inner "
            "hyphens, e.g. pr-1234"
        )
    name = PREFIX + ci_id
    if project.is_committed(name):
        raise CiStackError(
            f"--id {ci_id!r} makes stack name {name!r}, whose stack file "
            f"{project.stack_file_path(name)} is the project's own, not a copy of the "
            f"{TEMPLATE} template: choose another id (`ci` commands make and remove only "
            "copies; `stageline destroy` removes that stage)"
        )
    template = project.stack_file(TEMPLATE)
    try:
        file_config(dataclasses.replace(template, name=name))
    except ConfigError as exc:
        raise CiStackError(
            f"--id {ci_id!r} makes stack name {name!r}, which the {TEMPLATE} template refuses:"
            f"\n{exc}\nFix: choose an id the rule above accepts (shorter, single hyphens)"
        ) from None
    return name


@dataclass(frozen=True)
class CiStack:
    name: str
    created: datetime
    ttl: timedelta
    ttl_from: str
    """Where the TTL came from: `tag 24h`, `--older-than 2h`, or `default 24h`."""
    committed: bool = False
    """The stack has a stack file of its own in this clone: kept, whatever its age."""

    @property
    def expires(self) -> datetime:
        return self.created + self.ttl

    def expired(self, now: datetime) -> bool:
        return self.expires <= now


def created_at(stack: auto.Stack, summary: auto.StackSummary) -> datetime:
    """When the backend made the stack: its oldest update's start, else its stack list time."""
    updates = read_history(stack)
    if updates:
        return min(u.started for u in updates)
    last = as_utc(summary.last_update)
    if last is not None:
        return last
    raise CiStackError(f"{summary.name}: the backend gives no time for it")


def ci_stack_names(summaries: Iterable[auto.StackSummary]) -> list[auto.StackSummary]:
    return sorted((s for s in summaries if s.name.startswith(PREFIX)), key=lambda s: s.name)


def read_ci_stack(
    project: Project,
    stack: auto.Stack,
    summary: auto.StackSummary,
    older_than: timedelta | None,
) -> CiStack:
    name = summary.name
    created = created_at(stack, summary)
    mine = project.is_committed(name)
    if older_than is not None:
        return CiStack(name, created, older_than, "--older-than", mine)
    tag = stack.workspace.list_tags(name).get(TTL_TAG)
    default = parse_duration(DEFAULT_TTL)
    if tag is None:
        return CiStack(name, created, default, f"default {DEFAULT_TTL}", mine)
    try:
        return CiStack(name, created, parse_duration(tag), f"tag {tag}", mine)
    except CiStackError:
        # A tag edited by hand: the documented default, said as such, rather than a stack
        # that no sweep ever removes.
        why = f"tag {tag!r} unreadable, default {DEFAULT_TTL}"
        return CiStack(name, created, default, why, mine)


@dataclass(frozen=True)
class Swept:
    name: str
    outcome: str
    """kept, would remove, removed, failed."""
    detail: str


def sweep(
    found: Iterable[CiStack],
    now: datetime,
    remove: Callable[[str], None],
    dry_run: bool,
    on_result: Callable[[Swept], None],
) -> list[Swept]:
    """Remove the expired stacks one by one; one failure does not stop the others."""
    results: list[Swept] = []
    for stack in found:
        expires = stack.expires.strftime("%Y-%m-%d %H:%M:%S UTC")
        made = stack.created.strftime("%Y-%m-%d %H:%M:%S UTC")
        if stack.committed:
            result = Swept(
                stack.name,
                "kept",
                "its stack file is the project's own, not a CI copy: `stageline destroy` "
                "removes it",
            )
        elif not stack.expired(now):
            result = Swept(stack.name, "kept", f"made {made}, {stack.ttl_from}: expires {expires}")
        elif dry_run:
            result = Swept(stack.name, "would remove", f"made {made}, {stack.ttl_from}")
        else:
            try:
                remove(stack.name)
            except Exception as exc:  # reported, and the sweep goes on
                said = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
                result = Swept(stack.name, "failed", said)
            else:
                result = Swept(stack.name, "removed", f"made {made}, {stack.ttl_from}")
        on_result(result)
        results.append(result)
    return results
