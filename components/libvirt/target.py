"""The libvirt target as the operator sees it: its `stageline:libvirt` section, rules, live
checks, paths, plan-time values and kit. Imports no libvirt."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.libvirt.rules import validate
from components.libvirt.settings import LibvirtSettings, parse_settings
from components.places import Sites
from components.release_artifact import file_or_image
from components.targets import Target

if TYPE_CHECKING:
    from components.errors import ConfigIssue
    from components.spec import EnvironmentSpec


def _preflight(stack: str, spec: EnvironmentSpec, settings: LibvirtSettings) -> list[ConfigIssue]:
    # Only live runs load libvirt-python; validation and offline plans never do.
    from components.libvirt.preflight import run

    return run(stack, spec, settings)


def _source_check(primary: str, site: str) -> list[ConfigIssue]:
    from components.libvirt.preflight import source_issues

    return source_issues(primary, site)


def resolve_paths(raw: Mapping[str, Any], root: Path) -> Mapping[str, Any]:
    """The base image is a file on the machine running stageline: relative to the project,
    not the shell. (poolPath is on the KVM host, and must be absolute.)"""
    image = raw.get("baseImage")
    if isinstance(image, str) and image and not Path(image).is_absolute():
        return {**raw, "baseImage": str(root / image)}
    return raw


def mock_state(typ: str, name: str, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """What the site's dynamic resources compute on create (their uuid, a volume's path)."""
    return {key: f"{name}-{key}" for key in ("uuid", "path", "result") if key not in inputs}


TARGET = Target(
    name="libvirt",
    kit="components.libvirt.kit",
    places=Sites(),
    sdk=("libvirt", "paramiko"),
    settings=parse_settings,
    rules=validate,
    preflight=_preflight,
    resolve_paths=resolve_paths,
    mock_state=mock_state,
    # Its guests get a file release in their seed; an image needs a registry they reach.
    artifacts=file_or_image,
    health="components.libvirt.health",
    ops="components.libvirt.ops",
    policy="components.libvirt.policy",
    source_check=_source_check,
)
