"""Runs the policies over resources: the one entry point of the offline gate and the tests.

A resource's target is found from its type token through the target registry
(components/targets.py); the target's `policy` module supplies its facts.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable

from components.targets import owner_of_type
from policy.facts import NO_POLICY, TargetPolicy
from policy.model import Finding, Resource, StageContext
from policy.rules import POLICIES, Policy


@functools.cache
def facts_for(resource_type: str) -> TargetPolicy:
    """The facts of the target owning `resource_type`; none for providers, random, the stack."""
    target = owner_of_type(resource_type)
    if target is None or not target.policy:
        return NO_POLICY
    facts: TargetPolicy = importlib.import_module(target.policy).POLICY
    return facts


def check_resource(
    resource: Resource, context: StageContext, policies: Iterable[Policy] = POLICIES
) -> list[Finding]:
    facts = facts_for(resource.type)
    return [f for policy in policies for f in policy.check(resource, facts, context)]


def evaluate(
    resources: Iterable[Resource], context: StageContext, policies: Iterable[Policy] = POLICIES
) -> list[Finding]:
    """Every finding over `resources`, mandatory ones first, in resource order."""
    chosen = tuple(policies)
    found = [f for r in resources for f in check_resource(r, context, chosen)]
    return sorted(found, key=lambda f: f.level != "mandatory")


def is_data(resource: Resource) -> bool:
    """Whether the resource holds data (a database, a bucket, a data volume)."""
    return facts_for(resource.type).is_data(resource)
