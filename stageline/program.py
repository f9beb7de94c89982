"""The one Pulumi program: `pulumi up` runs it via __main__.py, the CLI via the Automation API."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.config

from components.contract import ReleaseManifest
from components.dr import ReplicaPlan
from components.environment import EnvironmentArgs, EnvironmentTemplate
from components.errors import raise_if_any
from components.targets import check_artifact_for_target, preflight_for_target, target_of
from stageline import PROJECT
from stageline.config import (
    SECRET_KEYS,
    StageConfig,
    decode_engine_values,
    parse_stage_config,
)
from stageline.graph import load_stage_graph, replica_cidrs
from stageline.promotion import (
    OutputSource,
    planned_upstream,
    read_replica_plan,
    read_upstream,
    resolve_release,
    upstream_stack_name,
)
from stageline.revision import template_revision
from stageline.stack_files import SECRET_PLACEHOLDER, stacks_dir


def engine_config() -> dict[str, Any]:
    """Every config key the engine gave this program, with its namespace prefix.

    An inline (Automation API) program gets its config set in the runtime; a program the
    language host starts gets it in the PULUMI_CONFIG environment variable. Reading every key,
    not only the known ones, is what lets a misspelt key be reported instead of ignored.
    """
    return {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}


def load_stage_config() -> StageConfig:
    """The running stack's config, decoded as the engine delivered it."""
    raw: dict[str, str] = {}
    other: dict[str, Any] = {}
    secret_keys: set[str] = set()
    prefix = f"{PROJECT}:"
    for full in engine_config():
        if not full.startswith(prefix):
            secret = pulumi.runtime.is_config_secret(full)
            other[full] = SECRET_PLACEHOLDER if secret else pulumi.runtime.get_config(full)
            continue
        key = full.removeprefix(prefix)
        # The runtime accessor reads the value without Config.get's "secret read as plain" warning.
        value = pulumi.runtime.get_config(full)
        if value is None:
            continue
        raw[key] = value
        if pulumi.runtime.is_config_secret(full):
            secret_keys.add(key)
    values, issues = decode_engine_values(raw)
    raise_if_any(issues, f"stack {pulumi.get_stack()!r}")
    return parse_stage_config(pulumi.get_stack(), values, secret_keys, other)


def with_project_paths(config: StageConfig, root: Path) -> StageConfig:
    """Relative file paths in target settings are relative to the project, not the shell;
    the target knows which of its settings are paths."""
    settings = target_of(config.target).resolve_paths(config.target_settings, root)
    if settings is config.target_settings:
        return config
    return dataclasses.replace(config, target_settings=dict(settings))


def stage_tags(config: StageConfig) -> dict[str, str]:
    return {"stageline-stage": config.stage, "stageline-stack": config.stack, "managed-by": PROJECT}


@dataclass(frozen=True)
class StageLinks:
    """How the stage relates to others, beyond its release: what the graph and the primary
    tell the template."""

    replica: ReplicaPlan | None = None
    """A DR stage's primary, mode and role."""
    replica_cidrs: tuple[str, ...] = ()
    """Ranges of stages that replicate this one's database."""


def build_environment(
    config: StageConfig,
    release: ReleaseManifest,
    root: Path = Path(),
    links: StageLinks = StageLinks(),
) -> pulumi.Inputs:
    """The environment template for the stage; returns the contract outputs to export."""
    password = (
        pulumi.Config(PROJECT).require_secret(SECRET_KEYS[0]) if config.has_db_password else None
    )
    env = EnvironmentTemplate(
        config.stack,
        EnvironmentArgs(
            spec=config.spec,
            target=config.target,
            region=config.region,
            release=release,
            tags=stage_tags(config),
            db_password=password,
            target_settings=config.target_settings,
            project_root=str(root),
            replica=links.replica,
            replica_cidrs=links.replica_cidrs,
        ),
    )
    return env.contract_outputs(config.stage, config.target, config.region, release)


EnvironmentBuilder = Callable[[StageConfig, ReleaseManifest, Path, StageLinks], pulumi.Inputs]


def deploy(
    stacks: Path | None = None,
    environment: EnvironmentBuilder = build_environment,
    offline: bool = False,
) -> None:
    """Validate, resolve the release, build the environment, export the contract.

    `stacks` is the folder of stack files that make up the stage graph. `pulumi up` leaves it
    unset (the project's stacks/); the CLI and offline plans pass the folder they work on.
    `environment` builds the resources; everything before it (validation, the stage graph,
    promotion) is the same for every caller. `offline` skips the live checks of the target
    (an offline plan has no host to ask).
    """
    folder = stacks or stacks_dir()
    config = with_project_paths(load_stage_config(), folder.parent)
    graph = load_stage_graph(folder, current=config)
    if not offline:
        issues = preflight_for_target(
            config.target, config.stack, config.spec, config.target_settings
        )
        raise_if_any(issues, f"stack {config.stack!r} (checked against its {config.target} target)")

    ref: OutputSource | None = None
    ref_name = ""
    if config.promotes_from and config.release_pin is None:
        ref_name = upstream_stack_name(config.promotes_from)
        ref = planned_upstream(config.promotes_from, pulumi.runtime.is_dry_run())
        if ref is None:
            ref = pulumi.StackReference(ref_name)
        else:
            ref_name += " (planned)"

    async def build() -> pulumi.Inputs:
        # The upstream is read before any resource is registered, so a missing or incompatible
        # upstream stops the run with nothing touched.
        upstream = await read_upstream(config, ref, ref_name) if ref is not None else None
        replica = None
        if config.disaster_recovery is not None and ref is not None:
            replica = await read_replica_plan(config, ref, ref_name)
            check = target_of(config.target).source_check
            if not offline and not replica.active and check is not None:
                issues = check(replica.source.stage, replica.source.site)
                raise_if_any(issues, f"stack {config.stack!r} (replicating {replica.source.stage})")
        current = template_revision()
        release = resolve_release(config, upstream, current)
        if release.source == "pinned" and config.promotes_from:
            pulumi.log.warn(
                f"{config.stage}: release {release.manifest.app_version} is pinned in config; "
                f"not promoting from {config.promotes_from}"
            )
        if release.manifest.template_revision != current:
            pulumi.log.warn(
                f"{config.stage}: deploying template {current}, but release "
                f"{release.manifest.app_version} was verified with "
                f"{release.manifest.template_revision}"
            )
        root = folder.parent
        issues = check_artifact_for_target(config.target, release.manifest.artifact, root)
        raise_if_any(issues, f"stack {config.stack!r} (release {release.manifest.app_version})")
        links = StageLinks(replica, replica_cidrs(graph.nodes, config.stack))
        return environment(config, release.manifest, root, links)

    pulumi.run(build)
