"""What every part of the `stageline:` config model shares: its pydantic settings, its field
types, and the one adapter from a pydantic error to the ConfigIssues a user reads.

Stack files use camelCase keys (`zoneCount`), the model snake_case fields (`zone_count`): the
alias generator maps one to the other, and config is read by alias only, so `zone_count` in a
stack file is an unknown key. Code may still build a model by field name.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BeforeValidator, ConfigDict, StrictBool, StrictInt, StrictStr, TypeAdapter
from pydantic import ValidationError as ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, PydanticCustomError

from components.errors import ConfigIssue

MODEL_CONFIG = ConfigDict(
    extra="forbid", alias_generator=to_camel, validate_by_name=True, validate_by_alias=True
)
"""For `pydantic.dataclasses.dataclass(frozen=True, config=MODEL_CONFIG)`."""

ISSUE = "stageline_issue"
"""Error type of a rule inside the model that words its own problem and fix."""

T = TypeVar("T")


def camel(name: str) -> str:
    """The stack-file key of a model field: `backup_retention_days` -> `backupRetentionDays`."""
    return to_camel(name)


@dataclasses.dataclass(frozen=True)
class Says:
    """Field metadata: how this field's errors read, replacing the defaults in TEXTS.

    `texts` maps a pydantic error type to (problem, fix); `whole` reports any error at or
    below the field once, as the field's own, with the value the stack file gave it."""

    texts: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    whole: tuple[str, str] | None = None


TEXTS: dict[str, tuple[str, str]] = {
    "missing": ("is required", "set {key}"),
    "bool_type": ("not a boolean", "use true or false"),
    "int_type": ("not a whole number", "use an integer such as 2"),
    "string_type": ("not a string", "quote the value in the stack file"),
    "literal_error": ("not an allowed value", "use one of {choices}"),
    "dataclass_type": ("must be an object", "write {key}: as a map"),
    "dict_type": ("must be an object", "write {key}: as a map"),
}
"""(problem, fix) of each pydantic error type a stack file can cause; `{key}` is the dotted
key and `{choices}` the allowed values."""
UNKNOWN_TYPES = ("unexpected_keyword_argument", "extra_forbidden")


def _blank_is_none(value: Any) -> Any:
    # An empty scalar (`stageline:promotesFrom: ""`) means the key is not set.
    return None if value == "" else value


def _none_is_empty(value: Any) -> Any:
    # A section written with no keys (`database:`) takes every default.
    return {} if value is None else value


Whole = StrictInt
Flag = StrictBool
Text = StrictStr
OptionalText = Annotated[
    StrictStr | None, Says({"string_type": ("not a string", "quote the value, or remove the key")})
]
Name = Annotated[
    StrictStr | None,
    BeforeValidator(_blank_is_none),
    Says({"string_type": ("not a string", "set {key} to a plain name")}),
]
"""A stage, tier, target or region name; empty means unset."""


def section(cls: type[T]) -> Any:
    """Annotation of a nested section: absent or empty reads as `{}`, so its own required keys
    are reported (`network.cidr is required`) rather than the section."""
    return Annotated[cls, BeforeValidator(_none_is_empty)]


def issue_error(problem: str, fix: str) -> PydanticCustomError:
    """Raised by a validator inside the model for a rule pydantic has no error type for."""
    return PydanticCustomError(ISSUE, "{problem}", {"problem": problem, "fix": fix})


def aliases(cls: type) -> tuple[str, ...]:
    """The stack-file keys of a model, in field order."""
    return tuple(info.alias or name for name, info in cls.__pydantic_fields__.items())  # type: ignore[attr-defined]


def text_keys(cls: type) -> tuple[str, ...]:
    """The keys of a model whose values are plain text (optional or not)."""
    fields = cls.__pydantic_fields__.items()  # type: ignore[attr-defined]
    return tuple(info.alias or name for name, info in fields if _unwrap(info.annotation) is str)


def _unwrap(annotation: Any) -> Any:
    """The model class inside `X | None` or `Annotated[X, ...]`, or the annotation itself."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(inner[0]) if len(inner) == 1 else annotation
    return annotation


def _field(cls: Any, alias: str) -> Any:
    fields = getattr(cls, "__pydantic_fields__", {})
    return next((f for name, f in fields.items() if (f.alias or name) == alias), None)


@dataclasses.dataclass(frozen=True)
class _Whole:
    """The outermost field, around an error, that reports its errors whole."""

    key: str
    loc: tuple[str, ...]
    problem: str
    fix: str


@dataclasses.dataclass(frozen=True)
class _Place:
    """Where an error sits: its dotted key, the field's metadata and annotation, and the class
    that owns the field."""

    key: str
    says: Says
    annotation: Any
    owner: Any
    whole: _Whole | None = None


def _place(root: type, loc: tuple[str | int, ...], prefix: str) -> _Place:
    cls: Any = root
    parts = [prefix] if prefix else []
    says, annotation, owner = Says(), None, root
    whole: _Whole | None = None
    steps: list[str] = []
    for step in loc:
        if not isinstance(step, str):
            break  # an item of a list: its field decides the wording
        owner = cls
        parts.append(step)
        steps.append(step)
        info = _field(cls, step)
        if info is None:
            says, annotation = Says(), None
            break
        says = next((m for m in info.metadata if isinstance(m, Says)), Says())
        annotation = info.annotation
        if says.whole and whole is None:
            whole = _Whole(".".join(parts), tuple(steps), *says.whole)
        cls = _unwrap(annotation)
    return _Place(".".join(parts), says, annotation, owner, whole)


def _value_at(raw: Any, loc: tuple[str, ...]) -> Any:
    # Every container on the way is a mapping: pydantic reports errors below a field only
    # after it read the field's mapping. The field itself may be absent.
    for step in loc:
        raw = raw.get(step)
    return raw


def _choices(annotation: Any) -> str:
    literal = _unwrap(annotation)
    return ", ".join(map(str, get_args(literal))) if get_origin(literal) is Literal else ""


UnknownKey = Callable[[str, Any], ConfigIssue]


def unknown_key(key: str, value: Any, known: Iterable[str]) -> ConfigIssue:
    """A key the section does not have, with the closest known one or all of them."""
    known = list(known)
    name = key.rpartition(".")[2]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known keys: {', '.join(known)}"
    return ConfigIssue(key, value, "unknown key", hint)


def issues_from(
    error: ValidationError,
    root: type,
    raw: Any,
    prefix: str,
    unknown_at_root: UnknownKey | None,
) -> list[ConfigIssue]:
    """Every error of one validation as a ConfigIssue, unknown keys first, each field once.

    `prefix` is the dotted key of `raw` (a section's name); `unknown_at_root` words an
    unknown key of `root` itself (the namespace's own wording)."""
    unknown: list[ConfigIssue] = []
    found: list[ConfigIssue] = []
    seen: set[str] = set()
    for detail in error.errors():
        issue = _issue(detail, root, raw, prefix, unknown_at_root)
        if detail["type"] in UNKNOWN_TYPES:
            unknown.append(issue)
        elif issue.key not in seen:
            seen.add(issue.key)
            found.append(issue)
    return unknown + found


def _issue(
    detail: ErrorDetails,
    root: type,
    raw: Any,
    prefix: str,
    unknown_at_root: UnknownKey | None,
) -> ConfigIssue:
    place = _place(root, tuple(detail["loc"]), prefix)
    kind = detail["type"]
    if place.whole:
        whole = place.whole
        return ConfigIssue(whole.key, _value_at(raw, whole.loc), whole.problem, whole.fix)
    if kind in UNKNOWN_TYPES:
        if unknown_at_root is not None and place.owner is root:
            return unknown_at_root(place.key, detail["input"])
        return unknown_key(place.key, detail["input"], aliases(place.owner))
    if kind == ISSUE:
        fix = (detail.get("ctx") or {})["fix"]
        return ConfigIssue(place.key, detail["input"], detail["msg"], str(fix))
    problem, fix = place.says.texts.get(kind) or TEXTS.get(kind) or (detail["msg"], "fix the value")
    value = None if kind == "missing" else detail["input"]
    words = {"key": place.key, "choices": _choices(place.annotation)}
    return ConfigIssue(place.key, value, problem.format(**words), fix.format(**words))


def validate(
    cls: type[T],
    raw: Any,
    prefix: str = "",
    unknown_at_root: UnknownKey | None = None,
) -> tuple[T | None, list[ConfigIssue]]:
    """`raw` (stack-file keys) as a `cls`, or None and every issue found."""
    try:
        return TypeAdapter(cls).validate_python(raw, by_name=False), []
    except ValidationError as error:
        return None, issues_from(error, cls, raw, prefix, unknown_at_root)


def validate_section(
    cls: type[T], raw: Any, section: str, rules: Callable[[T], list[ConfigIssue]]
) -> tuple[T | None, list[ConfigIssue]]:
    """A target's own `stageline:<section>`: the model's checks, then the target's `rules` on
    what parsed, every problem at once (a key with a bad value is not checked twice)."""
    parsed, issues = validate(cls, {} if raw is None else raw, prefix=section)
    checked = parsed if parsed is not None else read_leniently(cls, raw)
    reported = {issue.key for issue in issues}
    if checked is not None:
        issues += [issue for issue in rules(checked) if issue.key not in reported]
    return (parsed if not issues else None), issues


def read_leniently(cls: type[T], raw: Any) -> T | None:
    """`raw` as a `cls`, leaving out each key whose value is wrong (so it takes its default),
    or None when that is not enough. For reading one stage's keys to relate it to others,
    where its own bad values are its own validation's to report."""
    if not isinstance(raw, Mapping):
        return None
    known = set(aliases(cls))
    values = {k: v for k, v in raw.items() if k in known}
    while True:
        try:
            return TypeAdapter(cls).validate_python(values)
        except ValidationError as error:
            bad = {d["loc"][0] for d in error.errors() if d["loc"]} & values.keys()
            if not bad:
                return None
            values = {k: v for k, v in values.items() if k not in bad}


def read_field(cls: type, raw: Any, name: str) -> Any:
    """One field of `cls` from `raw` (stack-file keys), or its default where it is absent or
    wrong: for a question about one key of a stack file that need not be valid as a whole."""
    info = cls.__pydantic_fields__[name]  # type: ignore[attr-defined]
    default = info.get_default(call_default_factory=True)
    key = info.alias or name
    if not isinstance(raw, Mapping) or key not in raw:
        return default
    try:
        return TypeAdapter(info.rebuild_annotation()).validate_python(raw[key], by_name=False)
    except ValidationError:
        return default


__all__ = [
    "MODEL_CONFIG",
    "Flag",
    "Name",
    "OptionalText",
    "Says",
    "Text",
    "ValidationError",
    "Whole",
    "aliases",
    "camel",
    "issue_error",
    "issues_from",
    "read_field",
    "read_leniently",
    "section",
    "text_keys",
    "unknown_key",
    "validate",
    "validate_section",
]
