"""A target's own `stageline:<target>` section as a pydantic model, with errors as ConfigIssues.

Keys are camelCase in the stack file and snake_case in Python; unknown keys are refused with
a did-you-mean, since an ignored typo would silently drop the setting.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from components.errors import ConfigIssue

M = TypeVar("M", bound=BaseModel)


class Section(BaseModel):
    """Base of a target's settings model: frozen, camelCase keys, no unknown keys."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, strict=True, populate_by_name=True
    )


def _issue(section: str, model: type[BaseModel], error: Any) -> ConfigIssue:
    path = ".".join(str(part) for part in error["loc"])
    key = f"{section}.{path}" if path else section
    value = error.get("input")
    known = [f.alias or name for name, f in model.model_fields.items()]
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(path, known, n=1)
        hint = f"did you mean {section}.{close[0]}? " if close else ""
        return ConfigIssue(key, value, "unknown key", f"{hint}known keys: {', '.join(known)}")
    if error["type"] == "string_type":
        return ConfigIssue(key, value, "not a string", "quote the value, or remove the key")
    return ConfigIssue(key, value, error["msg"], f"fix {key}; known keys: {', '.join(known)}")


def parse_section(section: str, model: type[M], raw: Any) -> tuple[M | None, list[ConfigIssue]]:
    """The section's settings (defaults when absent), or every problem with it."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return None, [ConfigIssue(section, raw, "must be an object", f"write {section}: as a map")]
    try:
        return model.model_validate(dict(raw)), []
    except ValidationError as exc:
        return None, [_issue(section, model, error) for error in exc.errors()]
