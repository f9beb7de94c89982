"""Abstract size classes mapped to AWS instance types."""

from __future__ import annotations

import difflib

EC2_TYPES: dict[str, str] = {
    "xsmall": "t3.micro",
    "small": "t3.small",
    "medium": "m6i.large",
    "large": "m6i.xlarge",
    "xlarge": "m6i.2xlarge",
}

RDS_CLASSES: dict[str, str] = {
    "xsmall": "db.t4g.micro",
    "small": "db.t4g.small",
    "medium": "db.m6g.large",
    "large": "db.m6g.xlarge",
    "xlarge": "db.r6g.2xlarge",
}


def _sizes(*names: str, up_to: tuple[int, ...] = (), metal: tuple[str, ...] = ()) -> frozenset[str]:
    return frozenset({*names, *(f"{n}xlarge" for n in up_to), *metal})


_BURST = _sizes("nano", "micro", "small", "medium", "large", "xlarge", up_to=(2,))
_X86_5 = (2, 4, 8, 12, 16, 24)
_X86_6 = (*_X86_5, 32)
_X86_7 = (2, 4, 8, 12, 16, 24, 48)
_GRAVITON = (2, 4, 8, 12, 16)

# The catalogue `compute.sku` is checked against: current-generation families, each with the
# sizes EC2 really offers in it (t3.metal or m6g.24xlarge do not exist and would fail at launch).
EC2_SIZES: dict[str, frozenset[str]] = {
    "t3": _BURST,
    "t3a": _BURST,
    "t4g": _BURST,
    "m5": _sizes("large", "xlarge", up_to=_X86_5, metal=("metal",)),
    "m5a": _sizes("large", "xlarge", up_to=_X86_5),
    "m6i": _sizes("large", "xlarge", up_to=_X86_6, metal=("metal",)),
    "m6a": _sizes("large", "xlarge", up_to=(*_X86_6, 48), metal=("metal",)),
    "m6g": _sizes("medium", "large", "xlarge", up_to=_GRAVITON, metal=("metal",)),
    "m7i": _sizes("large", "xlarge", up_to=_X86_7, metal=("metal-24xl", "metal-48xl")),
    "m7a": _sizes("medium", "large", "xlarge", up_to=(*_X86_6, 48), metal=("metal-48xl",)),
    "m7g": _sizes("medium", "large", "xlarge", up_to=_GRAVITON, metal=("metal",)),
    "c5": _sizes("large", "xlarge", up_to=(2, 4, 9, 12, 18, 24), metal=("metal",)),
    "c5a": _sizes("large", "xlarge", up_to=(2, 4, 8, 12, 16, 24)),
    "c6i": _sizes("large", "xlarge", up_to=_X86_6, metal=("metal",)),
    "c6a": _sizes("large", "xlarge", up_to=(*_X86_6, 48), metal=("metal",)),
    "c6g": _sizes("medium", "large", "xlarge", up_to=_GRAVITON, metal=("metal",)),
    "c7i": _sizes("large", "xlarge", up_to=_X86_7, metal=("metal-24xl", "metal-48xl")),
    "c7a": _sizes("medium", "large", "xlarge", up_to=(*_X86_6, 48), metal=("metal-48xl",)),
    "c7g": _sizes("medium", "large", "xlarge", up_to=_GRAVITON, metal=("metal",)),
    "r5": _sizes("large", "xlarge", up_to=_X86_5, metal=("metal",)),
    "r5a": _sizes("large", "xlarge", up_to=_X86_5),
    "r6i": _sizes("large", "xlarge", up_to=_X86_6, metal=("metal",)),
    "r6a": _sizes("large", "xlarge", up_to=(*_X86_6, 48), metal=("metal",)),
    "r6g": _sizes("medium", "large", "xlarge", up_to=_GRAVITON, metal=("metal",)),
    "r7i": _sizes("large", "xlarge", up_to=_X86_7, metal=("metal-24xl", "metal-48xl")),
    "r7a": _sizes("medium", "large", "xlarge", up_to=(*_X86_6, 48), metal=("metal-48xl",)),
    "r7g": _sizes("medium", "large", "xlarge", up_to=_GRAVITON, metal=("metal",)),
}

# RDS for PostgreSQL classes by family: no db.t4g.nano, no metal, and each family's own range.
RDS_SIZES: dict[str, frozenset[str]] = {
    "t3": _sizes("micro", "small", "medium", "large", "xlarge", up_to=(2,)),
    "t4g": _sizes("micro", "small", "medium", "large", "xlarge", up_to=(2,)),
    "m5": _sizes("large", "xlarge", up_to=_X86_5),
    "m6i": _sizes("large", "xlarge", up_to=_X86_6),
    "m6g": _sizes("large", "xlarge", up_to=_GRAVITON),
    "m7g": _sizes("large", "xlarge", up_to=_GRAVITON),
    "r5": _sizes("large", "xlarge", up_to=_X86_5),
    "r6i": _sizes("large", "xlarge", up_to=_X86_6),
    "r6g": _sizes("large", "xlarge", up_to=_GRAVITON),
    "r7g": _sizes("large", "xlarge", up_to=_GRAVITON),
}

EC2_FAMILIES: frozenset[str] = frozenset(EC2_SIZES)
RDS_FAMILIES: frozenset[str] = frozenset(RDS_SIZES)


def catalogue(prefix: str, sizes: dict[str, frozenset[str]]) -> list[str]:
    """Every type of a catalogue, written as the service names it (`db.m6g.large`)."""
    return sorted(f"{prefix}{family}.{size}" for family, names in sizes.items() for size in names)


def instance_type_problem(
    value: str, prefix: str, families: frozenset[str] | dict[str, frozenset[str]]
) -> str | None:
    """Why `value` (e.g. m6i.large, or db.m6g.large with prefix "db.") is not a type stageline
    knows, or None when it is. Given family -> sizes, the size must exist in that family."""
    parts = value.removeprefix(prefix).split(".") if value.startswith(prefix) else []
    if len(parts) != 2:
        return f"not written {prefix}<family>.<size>"
    family, size = parts
    if family not in families:
        return f"unknown family {family!r}"
    offered = families[family] if isinstance(families, dict) else _ALL_SIZES
    if size not in offered:
        return f"{prefix}{family} has no size {size!r}"
    return None


_NAMED = {"nano": 1 / 32, "micro": 1 / 16, "small": 1 / 8, "medium": 1 / 4, "large": 1 / 2}


def _scale(size: str) -> float:
    """A size's place in its family, in xlarge units (metal: above every virtual size)."""
    if size in _NAMED:
        return _NAMED[size]
    if size.startswith("metal"):
        return 1000.0
    count = size.removesuffix("xlarge")
    return float(count) if count.isdigit() else 1.0


def nearest_type(value: str, prefix: str, sizes: dict[str, frozenset[str]]) -> str | None:
    """The type closest to `value`: the nearest size of its own family when the family exists,
    else the closest spelling in the whole catalogue."""
    family, _, size = value.removeprefix(prefix).partition(".")
    if family in sizes:
        best = min(sorted(sizes[family]), key=lambda s: (abs(_scale(s) - _scale(size)), _scale(s)))
        return f"{prefix}{family}.{best}"
    close = difflib.get_close_matches(value, catalogue(prefix, sizes), n=1)
    return close[0] if close else None


_ALL_SIZES: frozenset[str] = frozenset().union(*EC2_SIZES.values(), *RDS_SIZES.values())
