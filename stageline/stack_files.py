"""Reads `stacks/Pulumi.<stack>.yaml` as plain data, for the stage graph and offline plans."""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pulumi
import yaml

from stageline import PROJECT

STACK_FILE_PREFIX = "Pulumi."
PROJECT_FILE = "Pulumi.yaml"
SECRET_PLACEHOLDER = "[secret]"


class StackFileError(click.ClickException, pulumi.RunError):
    """A stack or project file that cannot be read: names the file, the line and column.

    A ClickException so that every CLI command prints it as one clean error (exit 1), and a
    RunError so that `pulumi up` prints it without a Python traceback.
    """


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice: YAML keeps only the last, silently dropping
    the first (a whole `stageline:network` section, say), where Pulumi refuses the file."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, str) and key in seen:
                first = seen[key].start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is given twice (first on line {first})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _where(path: Path, mark: yaml.Mark | None) -> str:
    # Marks count from 0; editors count lines and columns from 1.
    return f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)


def load_yaml_file(path: Path) -> Any:
    """A YAML file's data, or a StackFileError naming the file, line, column and problem."""
    try:
        stat = path.stat()
        text = path.read_text()
    except OSError as exc:
        raise StackFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    # Planning a chain builds the stage graph once per stage, from the same files: parse each
    # file version once per process, and hand out copies so no caller edits another's data.
    return copy.deepcopy(_parse(path, text, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=256)
def _parse(path: Path, text: str, mtime_ns: int, size: int) -> Any:
    """The parse of one version of a file (its text is part of the key). PyYAML's own parser,
    not libyaml's: its messages say more about what is wrong on the line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or "not valid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise StackFileError(
            f"{_where(path, exc.problem_mark)}: not valid YAML: {problem}{context}. "
            "Fix that line (check indentation, a missing `:` or a stray quote)."
        ) from exc
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path}: not valid YAML: {exc}") from exc


def _root_mark(path: Path) -> yaml.Mark | None:
    try:
        node = yaml.compose(path.read_text(), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    return node.start_mark if node is not None else None


def _mapping_or_fail(path: Path, data: Any, what: str, fix: str) -> dict[Any, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackFileError(
            f"{_where(path, _root_mark(path))}: {what} is a {type(data).__name__}, not a "
            f"mapping. {fix}"
        )
    return data


def read_project_file(path: Path) -> dict[Any, Any]:
    """`Pulumi.yaml` as data; a broken one fails here, before the engine reads it."""
    return _mapping_or_fail(
        path, load_yaml_file(path), "the project file", "Write it as `name: stageline` etc."
    )


@dataclass(frozen=True)
class StackFile:
    """One stack's config from its file. Encrypted values are not decrypted offline."""

    name: str
    path: Path
    values: dict[str, Any]
    """`stageline:`-namespace keys without the prefix, as YAML gave them."""
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    """Keys (without prefix) whose value is `secure:` ciphertext."""
    other_values: dict[str, Any] = field(default_factory=dict)
    """Keys of other namespaces (`<provider>:region`, ...), with their prefix, as YAML gave them."""

    def pulumi_config(self) -> tuple[dict[str, str], list[str]]:
        """The values as the engine hands them to a program: strings, objects as JSON."""
        config: dict[str, str] = {}
        secrets: list[str] = []
        items = [(f"{PROJECT}:{k}", v) for k, v in self.values.items()]
        for full, value in [*items, *self.other_values.items()]:
            if _is_secure(value):
                config[full] = SECRET_PLACEHOLDER
                secrets.append(full)
            elif isinstance(value, str):
                config[full] = value
            else:
                config[full] = json.dumps(value)
        return config, secrets


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def project_root(start: Path | None = None) -> Path:
    """The folder holding stageline's Pulumi.yaml: the working tree, or this package's parent."""
    for folder in [(start or Path.cwd()).resolve(), *(start or Path.cwd()).resolve().parents]:
        candidate = folder / "Pulumi.yaml"
        if candidate.is_file() and _project_name(candidate) == PROJECT:
            return folder
    return Path(__file__).resolve().parents[1]


def _project_name(path: Path) -> str | None:
    # A broken Pulumi.yaml where the user works is reported, not skipped: skipping it would
    # quietly run on another project.
    return read_project_file(path).get("name")


def stacks_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "stacks"


def _as_written(key: str, value: Any) -> Any:
    """The value as the user wrote it. The engine writes a stack file back with every scalar
    as text (`protectData: "true"`) when it saves config there; read as text, a protection
    flag would look unset."""
    from stageline.model import TEXT_KEYS  # the config model loads pydantic: only when needed

    if not isinstance(value, str) or key in TEXT_KEYS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, bool | int | float | list | dict) else value


def read_stack_file(path: Path) -> StackFile:
    name = path.name.removeprefix(STACK_FILE_PREFIX).rsplit(".", 1)[0]
    fix = "A stack file holds `config:` with `stageline:<key>: value` entries."
    data = _mapping_or_fail(path, load_yaml_file(path), "the stack file", fix)
    raw = data.get("config")
    if raw is not None and not isinstance(raw, dict):
        raise StackFileError(f"{path}: `config:` is a {type(raw).__name__}, not a mapping. {fix}")
    values: dict[str, Any] = {}
    other: dict[str, Any] = {}
    secrets: set[str] = set()
    for full_key, value in (raw or {}).items():
        namespace, _, key = str(full_key).partition(":")
        if namespace != PROJECT or not key:
            other[str(full_key)] = value
            continue
        values[key] = _as_written(key, value)
        if _is_secure(value):
            secrets.add(key)
    return StackFile(
        name=name, path=path, values=values, secret_keys=frozenset(secrets), other_values=other
    )


def list_stack_files(folder: Path) -> list[StackFile]:
    """Every stack file of the folder; the project's Pulumi.yaml beside it must be readable too,
    since the engine reads both."""
    project_file = folder.parent / PROJECT_FILE
    if project_file.is_file():
        read_project_file(project_file)
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
                name=name,
                path=base.path,
                values=base.values,
                secret_keys=base.secret_keys,
                other_values=base.other_values,
            )
        template, sep, _ = template.rpartition("-")
    return None
