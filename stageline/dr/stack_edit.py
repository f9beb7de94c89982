"""Edit one key of a stack file in place, keeping every comment and every other line.

The operator records state in config (`disasterRecovery.role: active` after a failover), and a
stack file is a document people write comments in: a YAML dump would drop them. So the edit is
a line edit of a block mapping, checked afterwards by parsing both versions: the file must
differ in exactly the edited key, or nothing is written.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import yaml


class StackEditError(Exception):
    """The key cannot be edited safely (flow style, an odd layout): says what to write."""


_KEY = r"(?P<indent>[ ]*)(?P<key>{key}):(?P<rest>.*)$"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _meaningful(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _find(lines: list[str], key: str, start: int, end: int, indent: int | None) -> int | None:
    pattern = re.compile(_KEY.format(key=re.escape(key)))
    for i in range(start, end):
        found = pattern.match(lines[i].rstrip("\n"))
        if found and (indent is None or len(found["indent"]) == indent):
            return i
    return None


def _block(lines: list[str], head: int) -> tuple[int, int, int | None]:
    """The lines of the mapping under `lines[head]`: (first, end, child indent or None)."""
    parent = _indent(lines[head])
    end = head + 1
    child: int | None = None
    last = head
    while end < len(lines):
        line = lines[end]
        if _meaningful(line):
            if _indent(line) <= parent:
                break
            child = _indent(line) if child is None else child
            last = end
        end += 1
    return head + 1, last + 1, child


def _section(lines: list[str], path: tuple[str, ...]) -> tuple[int, int, int | None]:
    """The block of the mapping at `path` (keys from the document root)."""
    start, end, indent = 0, len(lines), 0
    for key in path:
        at = _find(lines, key, start, end, indent)
        if at is None:
            raise StackEditError(f"no `{key}:` section")
        found = re.match(_KEY.format(key=re.escape(key)), lines[at].rstrip("\n"))
        assert found is not None
        if found["rest"].split("#", 1)[0].strip():
            raise StackEditError(f"`{key}:` is written inline; write it as an indented block")
        start, end, child = _block(lines, at)
        if child is None:
            raise StackEditError(f"`{key}:` is empty")
        indent = child
    return start, end, indent


def _edited(text: str, path: tuple[str, ...], key: str, value: str | None) -> str:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start, end, indent = _section(lines, path)
    at = _find(lines, key, start, end, indent)
    if value is None:
        if at is not None:
            del lines[at]
        return "".join(lines)
    if at is not None:
        found = re.match(_KEY.format(key=re.escape(key)), lines[at].rstrip("\n"))
        assert found is not None
        comment = re.search(r"\s+#.*$", found["rest"])
        tail = comment.group(0) if comment else ""
        lines[at] = f"{found['indent']}{key}: {value}{tail}\n"
    else:
        lines.insert(end, f"{' ' * (indent or 0)}{key}: {value}\n")
    return "".join(lines)


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def edit_text(text: str, path: tuple[str, ...], key: str, value: Any) -> str:
    """`text` with `path` + `key` set to `value` (a scalar), or removed where value is None.
    A missing key is added at the end of its section. Raises StackEditError unless the result
    parses to the original with just that change."""
    before = yaml.safe_load(text) or {}
    expected = copy.deepcopy(before)
    try:
        section = _at(expected, path)
    except (KeyError, TypeError) as exc:
        raise StackEditError(f"no `{path[-1]}:` section") from exc
    if not isinstance(section, dict):
        raise StackEditError(f"`{path[-1]}:` is not a mapping")
    if (key not in section) if value is None else (section.get(key) == value):
        return text
    rendered = None if value is None else yaml.safe_dump(value).removesuffix("\n...\n").strip()
    result = _edited(text, path, key, rendered)
    if value is None:
        section.pop(key, None)
    else:
        section[key] = value
    try:
        after = yaml.safe_load(result)
    except yaml.YAMLError as exc:
        raise StackEditError(f"the edit of {key!r} would not be valid YAML ({exc})") from exc
    if after != expected:
        raise StackEditError(f"the edit of {key!r} would change other keys")
    return result


def edit_file(file: Path, path: tuple[str, ...], key: str, value: Any) -> bool:
    """Edit the stack file (see edit_text); False when it already said so. Atomic: a reader
    never sees half a file."""
    text = file.read_text()
    try:
        result = edit_text(text, path, key, value)
    except StackEditError as exc:
        raise StackEditError(
            f"{file}: cannot set {path[-1]}.{key} to {value!r}: {exc}. Set it by hand."
        ) from exc
    if result == text:
        return False
    tmp = file.with_name(f".{file.name}.tmp")
    tmp.write_text(result)
    os.replace(tmp, file)
    return True
