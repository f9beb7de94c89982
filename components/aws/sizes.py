"""Abstract size classes mapped to AWS instance types."""

from __future__ import annotations

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

# The catalogue `compute.sku` and `database.sku` are checked against: current-generation families
# and the sizes EC2 and RDS name them with.
EC2_FAMILIES: frozenset[str] = frozenset(
    {
        *("t3", "t3a", "t4g"),
        *("m5", "m5a", "m6i", "m6a", "m6g", "m7i", "m7a", "m7g"),
        *("c5", "c5a", "c6i", "c6a", "c6g", "c7i", "c7a", "c7g"),
        *("r5", "r5a", "r6i", "r6a", "r6g", "r7i", "r7a", "r7g"),
    }
)
RDS_FAMILIES: frozenset[str] = frozenset(
    {"t3", "t4g", "m5", "m6i", "m6g", "m7g", "r5", "r6i", "r6g", "r7g"}
)
INSTANCE_SIZES: frozenset[str] = frozenset(
    {"nano", "micro", "small", "medium", "large", "xlarge", "metal"}
    | {f"{n}xlarge" for n in (2, 3, 4, 8, 9, 12, 16, 18, 24, 32, 48)}
)


def instance_type_problem(value: str, prefix: str, families: frozenset[str]) -> str | None:
    """Why `value` (e.g. m6i.large, or db.m6g.large with prefix "db.") is not a type stageline
    knows, or None when it is."""
    parts = value.removeprefix(prefix).split(".") if value.startswith(prefix) else []
    if len(parts) != 2:
        return f"not written {prefix}<family>.<size>"
    family, size = parts
    if family not in families:
        return f"unknown family {family!r}"
    if size not in INSTANCE_SIZES:
        return f"unknown size {size!r}"
    return None
