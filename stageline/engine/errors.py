"""The engine's failures as one sentence each: what failed and what to run.

The Automation API raises ``CommandError`` whose text is the CLI's exit code, stdout and stderr
glued together (``code: 1 / stdout: ... / stderr: ...``). That form never reaches a user: known
failures get a sentence of their own, and anything else is reduced to the engine's own error
lines, which for a program error already carry stageline's fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stageline.engine.plugins import missing_plugin_message


@dataclass(frozen=True)
class EngineOutput:
    """What a failed engine command printed."""

    code: int | None
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return f"{self.stdout}\n{self.stderr}"


_FRAME = re.compile(r"\A\s*code: (?P<code>-?\d+)\n stdout: (?P<rest>.*)\Z", re.DOTALL)


def parse_command_error(message: str) -> EngineOutput:
    """Split ``str(CommandError)`` back into code, stdout and stderr."""
    # CommandError keeps the CLI's result only inside its message, in CommandResult's format.
    match = _FRAME.match(message)
    if match is None:
        return EngineOutput(None, "", message)
    stdout, _, stderr = match["rest"].rpartition("\n stderr: ")
    return EngineOutput(int(match["code"]), stdout, stderr)


_ERROR_LINE = re.compile(r"^\s*(error|invalid stageline configuration)\b.*", re.IGNORECASE)

# The engine repeats a program's error as "an unhandled error occurred: ..." and closes with
# "update failed"; neither adds anything to the first report.
_NOISE = (
    "error: an unhandled error occurred",
    "error: update failed",
    "error: preview failed",
    "error: destroy failed",
    "error: refresh failed",
    "error: resource monitor has terminated",
)


def error_lines(output: EngineOutput) -> str:
    """The engine's error reports, without progress lines, frames and repeats."""
    lines = output.text.splitlines()
    blocks: list[list[str]] = []
    for i, line in enumerate(lines):
        if not _ERROR_LINE.match(line) or "**failed**" in line:
            continue
        block = [line.strip()]
        for follow in lines[i + 1 :]:
            if not follow.strip() or _ERROR_LINE.match(follow):
                break
            block.append(follow.rstrip())
        if block not in blocks:
            blocks.append(block)
    useful = [b for b in blocks if not b[0].lower().startswith(_NOISE)] or blocks
    if useful:
        return "\n".join("\n".join(b) for b in useful)
    # No error line at all (a crash): its last words, still without the frame.
    tail = [line.strip() for line in lines if line.strip()][-5:]
    return "\n".join(tail) if tail else f"the engine exited with code {output.code}"


Rule = Callable[[str, re.Match[str]], str]


def _state_missing(stage: str, m: re.Match[str]) -> str:
    return (
        f"stage {stage!r}: the state backend {m['url']} does not exist; create it with "
        f"`mkdir -p {m['path']}` or point STAGELINE_BACKEND_URL at an existing backend, then retry."
    )


def _wrong_passphrase(stage: str, m: re.Match[str]) -> str:
    return (
        f"stage {stage!r}: the stack's secrets were encrypted with another passphrase; set "
        "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the one the stack was "
        "created with, then retry."
    )


def _missing_plugin(stage: str, m: re.Match[str]) -> str:
    return missing_plugin_message(stage, m["kind"], m["name"], m["version"])


def _no_sdk(stage: str, m: re.Match[str]) -> str:
    return (
        f"stage {stage!r}: the engine ran the program with a Python that lacks the Pulumi SDK; "
        "run `scripts/setup` (it makes .venv and the engine), then retry."
    )


def _unknown_upstream(stage: str, m: re.Match[str]) -> str:
    missing = m["stack"]
    upstream = missing.rsplit("/", 1)[-1]
    return (
        f"stage {stage!r} promotes from {upstream!r}, but its stack {missing!r} does not "
        f"exist in this backend. Fix: run `stageline up {upstream}`, then retry."
    )


RULES: tuple[tuple[re.Pattern[str], Rule], ...] = (
    (
        re.compile(
            r'unable to open state directory "(?P<url>[^"]+)": stat (?P<path>.+?): '
            r"no such file or directory"
        ),
        _state_missing,
    ),
    (re.compile(r"incorrect passphrase"), _wrong_passphrase),
    (
        re.compile(
            r"no (?P<kind>resource|language|analyzer|converter) plugin "
            r"'pulumi-(?:resource|language|analyzer|converter)-(?P<name>[\w.-]+)' found in the "
            r"workspace(?: at version v(?P<version>[\w.+-]+))?"
        ),
        _missing_plugin,
    ),
    (re.compile(r"No module named 'pulumi'"), _no_sdk),
    (re.compile(r'unknown stack "(?P<stack>[^"]+)"'), _unknown_upstream),
)


def explain(stage: str, message: str) -> str:
    """One message for a failed engine command: a known failure's sentence, else its errors."""
    output = parse_command_error(message)
    for pattern, rule in RULES:
        match = pattern.search(output.text)
        if match is not None:
            return rule(stage, match)
    return f"{stage}: {error_lines(output)}"
