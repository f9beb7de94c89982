"""Checks shared by targets whose resource names derive from the stack name."""

from __future__ import annotations

from components.errors import ConfigIssue


def stack_name_issues(
    stack: str, problem: str | None, cloud: str, max_length: int
) -> list[ConfigIssue]:
    """The issue to report when `stack` cannot prefix the cloud's resource names."""
    if problem is None:
        return []
    return [
        ConfigIssue(
            "stage",
            stack,
            f"stack name cannot prefix {cloud} resource names: {problem}",
            f"use a stack name of at most {max_length} lowercase letters, digits and "
            "hyphens that starts with a letter (e.g. ci-pr-42)",
        )
    ]
