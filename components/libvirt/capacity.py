"""Will the stage's volumes fit on the host? Pure arithmetic; preflight supplies the host's view.

Counted: every volume whose size the stage's config chooses, at its full size, because a
qcow2 volume starts nearly empty and grows to its capacity as data arrives, so a check against
today's allocation would pass a site that fills up later. They are the database data volumes
(database.storageGb each, two with high availability), the object-store volume
(libvirt.storageGb) and the uploaded base image (its file size).

Not counted: each VM's root overlay and cloud-init seed. An overlay holds only what the guest
writes above the base image (its virtual size, 10 GiB, is a ceiling nothing in the stage
fills), and a seed is a few hundred KiB; counting overlays at full size would refuse sites
that run fine.

A volume that already exists (a re-run) needs only the room it has yet to grow into.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from components.errors import ConfigIssue
from components.spec import EnvironmentSpec

GIB = 1 << 30


@dataclass(frozen=True)
class VolumeNeed:
    key: str
    """The config key that sizes the volume (below `stageline:`)."""
    value: object
    """That key's value."""
    pool: str
    """libvirt pool the volume lives in."""
    name: str
    """Volume name in the pool."""
    capacity: int
    """Bytes the volume can grow to."""


def planned_volumes(
    stack: str, spec: EnvironmentSpec, storage_gb: int, base_image: str, base_image_bytes: int
) -> list[VolumeNeed]:
    """The volumes the stage creates that count against the host's space (names as built)."""
    db = spec.database
    base = f"{stack}-base.qcow2"
    needs = [VolumeNeed("libvirt.baseImage", base_image, f"{stack}-vm", base, base_image_bytes)]
    needs += [
        VolumeNeed(
            "database.storageGb",
            db.storage_gb,
            f"{stack}-vm",
            f"{stack}-db-{i}-data.qcow2",
            db.storage_gb * GIB,
        )
        for i in range(2 if db.high_availability else 1)
    ]
    needs.append(
        VolumeNeed(
            "libvirt.storageGb", storage_gb, f"{stack}-data", "objects.qcow2", storage_gb * GIB
        )
    )
    return needs


def statfs_available(stat_output: str) -> int:
    """Bytes free to unprivileged writers from `stat -f -c '%a %S'` (blocks, block size)."""
    blocks, size = stat_output.split()
    return int(blocks) * int(size)


def _gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB" if n >= GIB // 10 else f"{n / (1 << 20):.1f} MiB"


def check_fits(
    needs: list[VolumeNeed],
    free_bytes: int,
    pool_path: str,
    allocated: Mapping[tuple[str, str], int] | None = None,
) -> list[ConfigIssue]:
    """Issues when the volumes' room to grow exceeds the free space under `pool_path`.

    `allocated` maps (pool, volume) of volumes already on the host to the bytes they hold.
    Each size key whose own demand could close the gap is named, with the largest value that
    fits; when none alone could, every size key is named; when not even all of them could (the
    base image is larger than the free space), the pool path is.
    """
    have = allocated or {}
    demand: dict[str, int] = {}
    values: dict[str, object] = {}
    counts: dict[str, int] = {}
    held: dict[str, int] = {}
    for need in needs:
        used = have.get((need.pool, need.name), 0)
        demand[need.key] = demand.get(need.key, 0) + max(0, need.capacity - used)
        values[need.key] = need.value
        counts[need.key] = counts.get(need.key, 0) + 1
        held[need.key] = held.get(need.key, 0) + used
    total = sum(demand.values())
    if total <= free_bytes:
        return []
    over = total - free_bytes
    breakdown = ", ".join(f"{k} {_gib(v)}" for k, v in demand.items() if v)
    problem = (
        f"the stage's volumes need {_gib(total)} under {pool_path} on the KVM host "
        f"({breakdown}), but only {_gib(free_bytes)} is free there"
    )
    sizing = [k for k in demand if k.endswith("storageGb") and demand[k]]
    if sum(demand[k] for k in sizing) < over:
        # Even the smallest sizes leave no room: the base image alone is too large here.
        return [
            ConfigIssue(
                "libvirt.poolPath",
                pool_path,
                problem,
                "free space on the host or point libvirt.poolPath at a larger filesystem",
            )
        ]
    issues = []
    for key in [k for k in sizing if demand[k] >= over] or sizing:
        room = free_bytes - (total - demand[key]) + held[key]
        most = room // (counts[key] * GIB)
        lower = (
            f"lower {key} to at most {most}" if most >= 1 else f"lower {key} and the other sizes"
        )
        issues.append(
            ConfigIssue(
                key,
                values[key],
                problem,
                f"{lower}, free space on the host, or point libvirt.poolPath at a larger "
                "filesystem",
            )
        )
    return issues
