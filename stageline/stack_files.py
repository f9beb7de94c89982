"""Reads `stacks/Pulumi.<stack>.yaml` as plain data, for the stage graph and offline plans."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stageline import PROJECT

STACK_FILE_PREFIX = "Pulumi."
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class StackFile:
    """One stack's config from its file. Encrypted values are not decrypted offline."""

    name: str
    path: Path
    values: dict[str, Any]
    """`stageline:`-namespace keys without the prefix, as YAML gave them."""
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    """Keys (without prefix) whose value is `secure:` ciphertext."""

    def pulumi_config(self) -> tuple[dict[str, str], list[str]]:
        """The values as the engine hands them to a program: strings, objects as JSON."""
        config: dict[str, str] = {}
        for key, value in self.values.items():
            full = f"{PROJECT}:{key}"
            if key in self.secret_keys:
                config[full] = SECRET_PLACEHOLDER
            elif isinstance(value, str):
                config[full] = value
            else:
                config[full] = json.dumps(value)
        return config, [f"{PROJECT}:{k}" for k in self.secret_keys]


def project_root(start: Path | None = None) -> Path:
    """The folder holding stageline's Pulumi.yaml: the working tree, or this package's parent."""
    for folder in [(start or Path.cwd()).resolve(), *(start or Path.cwd()).resolve().parents]:
        candidate = folder / "Pulumi.yaml"
        if candidate.is_file() and _project_name(candidate) == PROJECT:
            return folder
    return Path(__file__).resolve().parents[1]


def _project_name(path: Path) -> str | None:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    return data.get("name") if isinstance(data, dict) else None


def stacks_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "stacks"


def read_stack_file(path: Path) -> StackFile:
    name = path.name.removeprefix(STACK_FILE_PREFIX).rsplit(".", 1)[0]
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from exc
    raw = data.get("config") or {}
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    for full_key, value in raw.items():
        namespace, _, key = str(full_key).partition(":")
        if namespace != PROJECT or not key:
            continue
        values[key] = value
        if isinstance(value, dict) and set(value) == {"secure"}:
            secrets.add(key)
    return StackFile(name=name, path=path, values=values, secret_keys=frozenset(secrets))


def list_stack_files(folder: Path) -> list[StackFile]:
    paths = sorted(folder.glob(f"{STACK_FILE_PREFIX}*.yaml"))
    return [read_stack_file(p) for p in paths]


def find_stack(name: str, stacks: dict[str, StackFile]) -> StackFile | None:
    """A stack file by name, or for an ephemeral `ci-1234` the template file `ci` it copies."""
    if name in stacks:
        return stacks[name]
    template, sep, _ = name.rpartition("-")
    while sep:
        if template in stacks:
            base = stacks[template]
            return StackFile(
                name=name, path=base.path, values=base.values, secret_keys=base.secret_keys
            )
        template, sep, _ = template.rpartition("-")
    return None
