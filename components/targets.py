"""The registry of targets: the one place that maps a target's name to its `target.py`.

Shared code and the operator ask a target (`target_of(name)`) and never name one. A target is
one folder, `components/<name>/`, whose SDK-free `target.py` defines `TARGET`, a `Target`
below. Registering a fifth target is one line in `REGISTRY`.

This module imports neither Pulumi nor any target: `stageline/__init__.py` reads the process
environment from it before the RPC library loads, and a stage imports only its own target.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.errors import ConfigIssue
    from components.kit import KitBuilder
    from components.places import Places
    from components.spec import EnvironmentSpec


@dataclass(frozen=True)
class Registration:
    """What must be known of a target before its module is imported."""

    module: str
    """The target's SDK-free module, which defines `TARGET`."""
    packages: tuple[str, ...] = ()
    """Provider packages (the first part of a resource type token) whose resources are the
    target's: an offline plan asks this target for their computed values."""
    process_environment: Mapping[str, str] = field(default_factory=dict)
    """Variables every stageline process sets before the RPC library (grpc) loads, because
    grpc reads them once at import; too early to import the target to ask it."""


REGISTRY: Mapping[str, Registration] = MappingProxyType(
    {
        "aws": Registration("components.aws.target", packages=("aws",)),
        "azure": Registration("components.azure.target", packages=("azure-native",)),
        "gcp": Registration("components.gcp.target", packages=("gcp",)),
        "libvirt": Registration(
            "components.libvirt.target",
            packages=("pulumi-python",),
            # libvirt reaches SSH hosts by forking `ssh`. gRPC's fork handlers (on by default)
            # then write to the child's stderr, which libvirt reads as the connection's first
            # bytes and drops it. The engine passes it on to provider processes.
            process_environment={"GRPC_ENABLE_FORK_SUPPORT": "false"},
        ),
    }
)
TARGET_NAMES: tuple[str, ...] = tuple(REGISTRY)


SettingsParser = Callable[[Any], "tuple[Any | None, list[ConfigIssue]]"]
"""The stage's `stageline:<target>` section (None when absent) -> (settings, issues)."""
Rules = Callable[["EnvironmentSpec", str, str], "list[ConfigIssue]"]
"""(spec, region, stack) -> the target's own limits of the common spec, checked before any
resource (its own section's limits are checked by its settings parser)."""
Preflight = Callable[[str, "EnvironmentSpec", Any], "list[ConfigIssue]"]
"""(stack, spec, settings) -> live checks against the target (reachability, host state)."""
PathResolver = Callable[[Mapping[str, Any], Path], Mapping[str, Any]]
"""(raw section, project root) -> the section with its relative file paths made absolute."""
SourceCheck = Callable[[str, str], "list[ConfigIssue]"]
"""(primary stage, its site from its contract) -> issues: whether a replica can reach it."""
ArtifactCheck = Callable[[str, Path], "list[ConfigIssue]"]
"""(release artifact, project root) -> issues: whether the target can run that artifact."""
MockState = Callable[[str, str, Mapping[str, Any]], Mapping[str, Any]]
"""(resource type, name, inputs) -> what the provider would compute on create."""
Computed = Callable[[str], Mapping[str, Any]]
"""(resource name) -> what the provider computes on create for one resource type."""


def _no_rules(spec: EnvironmentSpec, region: str, stack: str) -> list[ConfigIssue]:
    return []


def _images_only(artifact: str, root: Path) -> list[ConfigIssue]:
    # Imported here: components.errors loads pulumi (grpc), which must wait for
    # process_environment.
    from components.release_artifact import images_only

    return images_only(artifact, root)


def _same_paths(raw: Mapping[str, Any], root: Path) -> Mapping[str, Any]:
    return raw


@dataclass(frozen=True)
class Target:
    """Everything the operator needs to know about one target; no provider SDK behind it."""

    name: str
    kit: str
    """The module of the target's kit, whose `build` is its builder; imported only when a stage
    deploys (it imports the provider SDK)."""
    places: Places
    """Its regions and their zones, or its named sites."""
    sdk: tuple[str, ...] = ()
    """Top-level packages of the provider SDKs the kit needs; only their absence gets the
    "install its SDK" message, any other import error is a bug and propagates."""
    settings: SettingsParser | None = None
    """Parses the target's own `stageline:<name>` section; None: the target has none."""
    rules: Rules = _no_rules
    preflight: Preflight | None = None
    """Live checks, skipped by offline plans; None: the target has none."""
    resolve_paths: PathResolver = _same_paths
    computed: Mapping[str, Computed] = field(default_factory=dict)
    """What the provider computes on create, by resource type: name -> values (offline plans)."""
    mock_state: MockState | None = None
    """In place of `computed`, where the values depend on the inputs."""
    mock_calls: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """What the provider answers to invokes during an offline plan, by function token."""
    artifacts: ArtifactCheck = _images_only
    """Which release artifacts its machines run; by default OCI images only."""
    health: str = ""
    """The module whose `stage_health(stack, settings)` reports what runs inside the stage's
    machines (components/health.py); empty: the target cannot look inside them."""
    ops: str = ""
    """The module whose `OPERATIONS` (components/dr_ops.py) runs disaster recovery: replica lag,
    promotion, scaling, failover routing. Empty: the target has none."""
    policy: str = ""
    """The module whose `POLICY` (policy/facts.py TargetPolicy) tells the policy pack which of
    the target's types and properties hold encryption, public access, tags, boot data and
    sizes. Empty: only the stage-wide policies apply to its resources."""
    source_check: SourceCheck | None = None
    """Live check that a standby DR stage reaches its primary's site before anything is built
    (skipped by offline plans); None: the target has none."""

    def parse_settings(self, raw: Any) -> tuple[Any | None, list[ConfigIssue]]:
        if self.settings is not None:
            return self.settings(raw)
        if not raw:  # absent (None), or the empty section a StageConfig defaults to
            return None, []
        from components.errors import ConfigIssue  # imports Pulumi; see the module docstring

        return None, [
            ConfigIssue(
                self.name,
                raw,
                f"the {self.name} target has no settings of its own",
                f"remove the {self.name} section",
            )
        ]

    def planned_state(self, typ: str, name: str, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        """What an offline plan shows for the values the provider would compute."""
        if self.mock_state is not None:
            return self.mock_state(typ, name, inputs)
        computed = self.computed.get(typ)
        return computed(name) if computed else {}

    def load_kit(self) -> KitBuilder:
        """The kit builder. Only a missing provider SDK becomes the friendly message."""
        try:
            builder: KitBuilder = importlib.import_module(self.kit).build
            return builder
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] not in self.sdk:
                raise
            import pulumi  # only here: this module stays importable before grpc

            raise pulumi.RunError(
                f"target {self.name!r} cannot be loaded ({exc}). Install its SDK with "
                f"`pip install -e .[{self.name}]`, or choose another stageline:target."
            ) from exc

    def validated_settings(self, raw: Any) -> Any:
        """The settings of a section validated before (config parsing); guards direct callers."""
        parsed, issues = self.parse_settings(raw)
        if issues:
            raise ValueError("; ".join(issue.render() for issue in issues))
        return parsed


def is_target(name: str) -> bool:
    return name in REGISTRY


def target_of(name: str, registry: Mapping[str, Registration] = REGISTRY) -> Target:
    """The target's module, imported on first use. An import error inside it propagates: a
    broken target must fail loudly, not lose its rules."""
    if name not in registry:
        raise ValueError(f"unknown target {name!r}; known: {', '.join(registry)}")
    target: Target = importlib.import_module(registry[name].module).TARGET
    return target


def owner_of_type(resource_type: str) -> Target | None:
    """The target whose provider package a resource type token belongs to (`aws:s3/...`)."""
    package = resource_type.partition(":")[0]
    for name, registration in REGISTRY.items():
        if package in registration.packages:
            return target_of(name)
    return None


def validate_for_target(
    target: str, spec: EnvironmentSpec, region: str, stack: str
) -> list[ConfigIssue]:
    """Target-only rules (limits of one cloud's services); the rules modules import no SDK."""
    return target_of(target).rules(spec, region, stack)


def check_artifact_for_target(target: str, artifact: str, root: Path) -> list[ConfigIssue]:
    """Whether the target's machines can run the release's artifact (before any resource)."""
    return target_of(target).artifacts(artifact, root)


def preflight_for_target(
    target: str, stack: str, spec: EnvironmentSpec, raw_settings: Any
) -> list[ConfigIssue]:
    """Live checks against the target (reachability, host state); only some targets have any."""
    found = target_of(target)
    if found.preflight is None:
        return []
    return found.preflight(stack, spec, found.validated_settings(raw_settings))


def process_environment() -> dict[str, str]:
    """What every stageline process must set before grpc loads, for any target."""
    merged: dict[str, str] = {}
    for registration in REGISTRY.values():
        merged.update(registration.process_environment)
    return merged


def load_kit(name: str) -> KitBuilder:
    """The target's kit builder (see `Target.load_kit`)."""
    return target_of(name).load_kit()
