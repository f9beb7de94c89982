"""Reference for `plan --all`: one process importing the cloud SDK classes the template uses.

    python benchmarks/sdk_classes.py            # import them (what is timed)
    python benchmarks/sdk_classes.py --list     # print what would be imported

The classes are found by reading components/<cloud>/ (`aws.ec2.Vpc`, `compute.Instance` after
`from pulumi_gcp import compute`, ...), so the reference follows the template as it changes.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

COMPONENTS = Path(__file__).resolve().parents[1] / "components"
CLOUDS = ("aws", "azure", "gcp")


def _chain(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def used_classes() -> list[str]:
    """Dotted paths such as `pulumi_aws.ec2.Vpc`, for every cloud target's sources."""
    found: set[str] = set()
    for cloud in CLOUDS:
        for path in sorted((COMPONENTS / cloud).rglob("*.py")):
            tree = ast.parse(path.read_text())
            aliases: dict[str, str] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.startswith("pulumi_"):
                            aliases[alias.asname or alias.name] = alias.name
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_"):
                    for alias in node.names:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            for node in ast.walk(tree):
                chain = _chain(node) if isinstance(node, ast.Attribute) else None
                if chain and chain[0] in aliases:
                    # Keep chains that end at a class (CapWords), e.g. not `.id` or `.apply`.
                    for i, part in enumerate(chain[1:], start=1):
                        if part[:1].isupper():
                            found.add(".".join([aliases[chain[0]], *chain[1 : i + 1]]))
                            break
    return sorted(found)


def load(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            value = getattr(value, attr)
        return value
    raise ImportError(dotted)


def main() -> None:
    classes = used_classes()
    if "--list" in sys.argv:
        print("\n".join(classes))
        return
    for dotted in classes:
        load(dotted)


if __name__ == "__main__":
    main()
