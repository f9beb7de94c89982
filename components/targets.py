"""Loads one target's implementations by name, so a stage imports only its own provider SDK."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.compute import Compute
from components.database import Database
from components.errors import ConfigIssue
from components.network import Network
from components.observability import Observability
from components.regions import TARGETS
from components.spec import EnvironmentSpec
from components.storage import Storage

ProviderFactory = Callable[[str, str, pulumi.ResourceOptions], pulumi.ProviderResource]
"""(name, region, opts) -> the target's explicit provider for the stage's region."""
SiteFactory = Callable[[str, str, Mapping[str, Any], pulumi.ResourceOptions], pulumi.Resource]
"""(name, stack, target settings, opts) -> what a target builds before the concerns (a site)."""
ArgsExtender = Callable[[Any, Any], Any]
"""(common args, site) -> the target-only args that extend them."""


@dataclass(frozen=True)
class TargetKit:
    """One subclass per concern for a target, plus its explicit-provider factory."""

    name: str
    provider: ProviderFactory | None
    network: type[Network]
    compute: type[Compute]
    database: type[Database]
    storage: type[Storage]
    observability: type[Observability]
    site: SiteFactory | None = None
    """Targets without a cloud provider (libvirt) build shared context here instead."""
    extend: ArgsExtender | None = None


def load_target(target: str) -> TargetKit:
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    try:
        module = importlib.import_module(f"components.{target}.kit")
    except ModuleNotFoundError as exc:
        raise pulumi.RunError(
            f"target {target!r} cannot be loaded ({exc}). Install its SDK with "
            f"`pip install -e .[{target}]`, or choose another stageline:target."
        ) from exc
    return module.KIT


def preflight_for_target(
    target: str, stack: str, spec: EnvironmentSpec, settings: Mapping[str, Any]
) -> list[ConfigIssue]:
    """Live checks against the target (reachability, host state); only some targets have any."""
    try:
        module = importlib.import_module(f"components.{target}.preflight")
    except ModuleNotFoundError:
        return []
    return module.run(stack, spec, settings)


def validate_for_target(
    target: str, spec: EnvironmentSpec, region: str, stack: str
) -> list[ConfigIssue]:
    """Target-only rules (limits of one cloud's services); the rules modules import no SDK."""
    try:
        rules = importlib.import_module(f"components.{target}.rules")
    except ModuleNotFoundError:
        return []
    return rules.validate(spec, region, stack)
