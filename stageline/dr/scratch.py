"""A drill's scratch stack: an ephemeral copy of the DR stage, and the tag that says who
owns it and until when.

The copy is `stacks/Pulumi.<dr stage>-drill-<id>.yaml`, which the config layer accepts as an
ephemeral copy of the DR stage (stack `<stage>-<id>`), written with the header
`stageline destroy` knows, so destroy removes it with its stack. It differs from the DR stage in
what a throwaway needs: `tier: ephemeral`, `protectData: false` and no database deletion
protection (a drill must leave nothing behind, so nothing is protected or retained), role
standby, and no `dnsZone` (a drill never touches the failover record).

The tag is `<dr folder>/drills/<scratch>.json`: the creating process's pid and host and a
deadline. It is written before the stack exists and removed after it is gone, so `dr gc` can
tell a running drill from one whose process died, without that process.
"""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from stageline.dr.stack_edit import edit_text
from stageline.dr.stage import DR_KEY, DrStage
from stageline.stack_files import STACK_FILE_PREFIX
from stageline.workspace import EPHEMERAL_HEADER, Project

DRILL_NAME = re.compile(r"^(?P<stage>[a-z][a-z0-9-]*)-drill-[0-9a-f]+$")
DEFAULT_TTL_SECONDS = 3 * 3600

SCRATCH_EDITS: tuple[tuple[tuple[str, ...], str, object], ...] = (
    (("config",), "stageline:tier", "ephemeral"),
    (("config",), "stageline:protectData", False),
    (("config", DR_KEY), "role", "standby"),
    (("config", DR_KEY), "dnsZone", None),
)


def scratch_file(project: Project, scratch: str) -> Path:
    return project.stacks_dir / f"{STACK_FILE_PREFIX}{scratch}.yaml"


def write_scratch_file(project: Project, dr: DrStage, scratch: str) -> Path:
    text = re.sub(r"(?m)^encryptionsalt:.*\n", "", dr.own_file.read_text())
    for path, key, value in SCRATCH_EDITS:
        text = edit_text(text, path, key, value)
    if dr.config.spec.database.deletion_protection:
        text = edit_text(text, ("config", "stageline:database"), "deletionProtection", False)
    drill_cidr = dr.config.disaster_recovery.drill_cidr if dr.config.disaster_recovery else None
    if drill_cidr:
        # Beside the DR stage on its site: a network of its own range.
        text = edit_text(text, ("config", "stageline:network"), "cidr", drill_cidr)
    target = scratch_file(project, scratch)
    target.write_text(EPHEMERAL_HEADER + text)
    return target


def ensure_scratch_file(project: Project, dr: DrStage, scratch: str) -> Path:
    """The scratch copy as `stageline destroy` must see it (ephemeral, unprotected), made
    again where a killed drill left none or a bare one; the stack's encryption salt is kept,
    since its state's secrets are sealed with it."""
    path = scratch_file(project, scratch)
    existing = path.read_text() if path.is_file() else ""
    if existing.startswith(EPHEMERAL_HEADER) and "stageline:stage:" in existing:
        return path
    salt = "".join(re.findall(r"(?m)^encryptionsalt:.*\n", existing))
    write_scratch_file(project, dr, scratch)
    if salt:
        path.write_text(path.read_text() + salt)
    return path


@dataclass(frozen=True)
class DrillTag:
    stack: str
    dr_stage: str
    pid: int
    host: str
    created_at: str
    deadline: str
    """UTC ISO time after which `dr gc` removes the drill even if its process lives."""

    @staticmethod
    def new(stack: str, dr_stage: str, now: datetime, ttl_seconds: float) -> DrillTag:
        return DrillTag(
            stack=stack,
            dr_stage=dr_stage,
            pid=os.getpid(),
            host=socket.gethostname(),
            created_at=now.isoformat(timespec="seconds"),
            deadline=(now + timedelta(seconds=ttl_seconds)).isoformat(timespec="seconds"),
        )


def tag_path(folder: Path, stack: str) -> Path:
    return folder / f"{stack}.json"


def write_tag(folder: Path, tag: DrillTag) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = tag_path(folder, tag.stack)
    path.write_text(json.dumps(asdict(tag), indent=2) + "\n")
    return path


def read_tag(folder: Path, stack: str) -> DrillTag | None:
    """The drill's tag; None if absent or unreadable (then its owner is unknown)."""
    try:
        data = json.loads(tag_path(folder, stack).read_text())
        return DrillTag(**data)
    except (OSError, ValueError, TypeError):
        return None


def tags(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
