"""Setup scripts that cloud-init runs in a guest, as named steps.

Each step's name is recorded in the guest before it runs; a failing step's name is kept in
FAILED_STEP, so `stageline status` and `up` can say which step of which VM failed, not only
that cloud-init did. Every script runs under `set -eu` with pipefail; the steps are written to
be repeatable, since a replaced VM may find its data volume already set up.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

STATE_DIR = "/var/lib/stageline"
CURRENT_STEP = f"{STATE_DIR}/step"
FAILED_STEP = f"{STATE_DIR}/failed-step"
DONE = f"{STATE_DIR}/setup-done"


@dataclass(frozen=True)
class Step:
    name: str
    """What the step does, as `status` shows it, e.g. "clone the primary"."""
    commands: str
    """Shell commands (bash)."""


def script(steps: list[Step]) -> str:
    lines = [
        "#!/bin/bash",
        "set -Eeuo pipefail",
        f"mkdir -p {STATE_DIR}",
        f"rm -f {FAILED_STEP} {DONE}",
        # The trap sees the step that was running when a command failed.
        f"trap 'echo \"$STEP\" > {FAILED_STEP}' ERR",
    ]
    for step in steps:
        name = shlex.quote(step.name)
        lines += [
            f"STEP={name}",
            f'echo "$STEP" > {CURRENT_STEP}',
            'echo "stageline: step: $STEP"',
            step.commands.strip(),
        ]
    lines += [f"touch {DONE}", 'echo "stageline: setup done"', ""]
    return "\n".join(lines)
