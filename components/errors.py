"""The one error type for bad input: it names the key, the bad value and the fix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

CONFIG_NAMESPACE = "stageline"


@dataclass(frozen=True)
class ConfigIssue:
    """One problem with one config key.

    `key` is the path below the `stageline:` namespace (e.g. `network.cidr`), so that the
    message can be pasted into `pulumi config set --path`.
    """

    key: str
    value: object
    problem: str
    fix: str
    stack: str = ""
    """Stack whose config holds the key, where the issue spans several stacks."""
    namespace: str = CONFIG_NAMESPACE
    """Config namespace of the key: `stageline`, a provider's (`aws`, `gcp`, ...), or empty
    for a key written without one."""

    def render(self) -> str:
        where = f"[{self.stack}] " if self.stack else ""
        full = f"{self.namespace}:{self.key}" if self.namespace else self.key
        return f"{where}{full} = {self.value!r}: {self.problem}.\n    fix: {self.fix}"


class ConfigError(pulumi.RunError):
    """Raised before any resource is registered; RunError makes Pulumi print it without a trace.

    All issues found are reported at once so that one run shows every fix to make.
    """

    def __init__(self, issues: Sequence[ConfigIssue], where: str) -> None:
        self.issues = tuple(issues)
        self.where = where
        lines = [f"invalid stageline configuration in {where}:"]
        lines += [f"  - {issue.render()}" for issue in self.issues]
        super().__init__("\n".join(lines))


def raise_if_any(issues: Sequence[ConfigIssue], where: str) -> None:
    if issues:
        raise ConfigError(issues, where)
