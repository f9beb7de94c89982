"""Disaster recovery on the sites, timed, against the slowest single stage in the same run.

    scripts/services && python benchmarks/dr_benchmark.py

In a temporary copy of the project (its own state folder), holding /tmp/stageline-libvirt.lock
throughout as every libvirt user here does, it runs what tests/integration/test_libvirt_dr.py
runs, on the same trimmed sizes (onprem: two xsmall app VMs and one database server; onprem-dr:
a warm standby of one app VM), and times each step:

- the reference: a cold `stageline up onprem` until its guests are healthy (the slowest single
  stage of the flow, on the same machine and load);
- `stageline dr up onprem-dr` until the replica streams;
- `stageline dr drill onprem`: its RTO and RPO as the drill report measured them, and its wall
  time;
- `stageline dr failover onprem-dr --yes`: the time it printed from the start of the promotion
  until the ingress was healthy (target: at most 60 s);
- `stageline dr failback onprem-dr --yes`: its wall time.

Prints each figure and its ratio to the reference, then removes everything it made.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import edit_stack_file  # noqa: E402
from tests.integration.libvirt_checks import (  # noqa: E402
    GUEST_IMAGE,
    LOCAL_URI,
    POOLS,
    dc1_uri,
    dc2_uri,
    remove_all,
)
from tests.integration.test_libvirt_dr import DR, ONPREM  # noqa: E402

LOCK = Path("/tmp/stageline-libvirt.lock")
FAILOVER_TARGET_SECONDS = 60.0


def stageline(project: Path, env: dict[str, str], *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "stageline.cli.main", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"stageline {' '.join(args)} failed:\n{proc.stdout[-4000:]}{proc.stderr}")
    return elapsed, proc.stdout


def project_copy(where: Path, pools: Path) -> Path:
    project = where / "project"
    project.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", project)
    shutil.copytree(ROOT / "stacks", project / "stacks")
    shutil.copytree(ROOT / "examples", project / "examples")
    for stack_file in (project / "stacks").glob("Pulumi.*.yaml"):
        lines = stack_file.read_text().splitlines(keepends=True)
        stack_file.write_text("".join(x for x in lines if not x.startswith("encryptionsalt:")))
    common = {"libvirt.baseImage": str(GUEST_IMAGE), "libvirt.poolPath": str(pools)}
    stacks = project / "stacks"
    edit_stack_file(stacks / "Pulumi.onprem.yaml", {**common, "libvirt.uri": dc1_uri(), **ONPREM})
    edit_stack_file(stacks / "Pulumi.onprem-dr.yaml", {**common, "libvirt.uri": dc2_uri(), **DR})
    return project


def main() -> None:
    if not GUEST_IMAGE.is_file():
        raise SystemExit(f"{GUEST_IMAGE} missing: run scripts/services first")
    with tempfile.TemporaryDirectory(prefix="stageline-dr-bench-") as tmp, open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        where = Path(tmp)
        pools = POOLS / where.name
        pools.mkdir(parents=True, exist_ok=True)
        state = where / "state"
        state.mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "STAGELINE_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": "dr-benchmark",
        }
        project = project_copy(where, pools)
        try:
            reference, _ = stageline(project, env, "up", "onprem")
            dr_up, _ = stageline(project, env, "dr", "up", "onprem-dr")
            drill_wall, _ = stageline(project, env, "dr", "drill", "onprem")
            (report_file,) = (project / "drills").glob("*.json")
            measured = json.loads(report_file.read_text())["measured"]
            _, failover_out = stageline(project, env, "dr", "failover", "onprem-dr", "--yes")
            took = re.search(r"failover took ([0-9.]+) s", failover_out)
            failover = float(took.group(1)) if took else float("nan")
            failback, _ = stageline(project, env, "dr", "failback", "onprem-dr", "--yes")
        finally:
            for prefix in ("onprem-",):
                remove_all(LOCAL_URI, prefix)
            shutil.rmtree(pools, ignore_errors=True)
            for logs in Path("/var/log/stageline").glob("onprem*"):
                shutil.rmtree(logs, ignore_errors=True)

    def line(name: str, seconds: float) -> None:
        print(f"{name:<44} {seconds:8.1f} s   {seconds / reference:5.2f}x the reference")

    print(f"{'reference: cold up onprem until healthy':<44} {reference:8.1f} s")
    line("dr up onprem-dr until streaming", dr_up)
    line("dr drill onprem (wall)", drill_wall)
    print(f"{'drill RTO (report)':<44} {measured['rtoSeconds']:8.1f} s")
    print(f"{'drill RPO (report)':<44} {measured['rpoSeconds']:8.1f} s")
    verdict = "within" if failover <= FAILOVER_TARGET_SECONDS else "PAST"
    print(
        f"{'failover until healthy':<44} {failover:8.1f} s   {verdict} the "
        f"{FAILOVER_TARGET_SECONDS:.0f} s target; {failover / reference:5.2f}x the reference"
    )
    line("dr failback onprem-dr (wall)", failback)


if __name__ == "__main__":
    main()
