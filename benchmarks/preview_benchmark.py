"""CI previews, timed against references measured in the same run, as ratios.

    scripts/services && python benchmarks/preview_benchmark.py [--runs 3]

In a temporary copy of the project (its own state folder), with the libvirt stages on this
machine's test sites as the tests use them, and holding /tmp/stageline-libvirt.lock while
`local` and `onprem` are deployed (the boot-sector image, `--no-wait`: previews need their
state, not booted guests):

- `preview --all` wall time, as a ratio to the slowest single-stage `preview STAGE` (target:
  at most 1.5x);
- summary generation (markdown summary, PR comments, text) for the report of every stage, in
  seconds (target: at most 1 s beyond the previews);
- offline `plan --all`, with a warm plan cache and with `--no-cache`, in seconds (target: 10 s).

Each command is a fresh process, as CI runs it. Loops run interleaved with their reference,
after one warm-up of each; figures are medians. Everything deployed is destroyed at the end.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stageline.ci.markdown import render_comments, render_summary, render_text  # noqa: E402
from stageline.ci.report import load_report  # noqa: E402
from tests.conftest import edit_stack_file  # noqa: E402
from tests.integration.libvirt_checks import (  # noqa: E402
    LOCAL_URI,
    POOLS,
    STAGE_PREFIXES,
    base_image,
    dc1_uri,
    dc2_uri,
    remove_all,
)

LOCK = Path("/tmp/stageline-libvirt.lock")
LIBVIRT = ("local", "onprem", "onprem-dr")


def stageline(project: Path, env: dict[str, str], *args: str, check: bool = True) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "stageline.cli.main", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - start
    if check and proc.returncode != 0:
        raise SystemExit(f"stageline {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return took


def make_project(work: Path) -> tuple[Path, dict[str, str]]:
    project = work / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project)
    for folder in ("stacks", "examples"):
        shutil.copytree(ROOT / folder, project / folder)
    pools = POOLS / work.name
    pools.mkdir(parents=True, exist_ok=True)
    common = {"libvirt.baseImage": str(base_image()), "libvirt.poolPath": str(pools)}
    edit_stack_file(project / "stacks/Pulumi.local.yaml", common)
    edit_stack_file(project / "stacks/Pulumi.onprem.yaml", {**common, "libvirt.uri": dc1_uri()})
    edit_stack_file(project / "stacks/Pulumi.onprem-dr.yaml", {**common, "libvirt.uri": dc2_uri()})
    state = work / "state"
    state.mkdir()
    env = {
        **os.environ,
        "STAGELINE_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": "benchmark",
        "PYTHONPATH": str(ROOT),
    }
    return project, env


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="stageline-bench-") as tmp, LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        project, env = make_project(Path(tmp))
        report = project / "report.json"
        try:
            stageline(project, env, "up", "local", "--no-wait")
            stageline(project, env, "up", "onprem", "--no-wait")
            every = ["preview", "--all", "--format", "json", "--output", str(report)]
            # Warm-up: page cache, bytecode, the plan cache, the stacks' engine workspaces.
            stageline(project, env, *every)
            for stage in LIBVIRT:
                stageline(project, env, "preview", stage)
            alls: list[float] = []
            singles: dict[str, list[float]] = {s: [] for s in LIBVIRT}
            for _ in range(runs):
                alls.append(stageline(project, env, *every))
                for stage in LIBVIRT:
                    singles[stage].append(stageline(project, env, "preview", stage))
            slowest = max(LIBVIRT, key=lambda s: median(singles[s]))

            loaded = load_report(report.read_text())
            renders: list[float] = []
            for _ in range(max(runs, 5)):
                start = time.perf_counter()
                fresh = load_report(report.read_text())
                render_summary(fresh)
                render_comments(fresh)
                render_text(fresh)
                renders.append(time.perf_counter() - start)

            warm = [stageline(project, env, "plan", "--all") for _ in range(runs)]
            cold = [stageline(project, env, "plan", "--all", "--no-cache") for _ in range(runs)]
        finally:
            for stage in ("onprem", "local"):
                stageline(project, env, "destroy", stage, "--yes", check=False)
            for prefix in STAGE_PREFIXES:
                remove_all(LOCAL_URI, prefix)
            shutil.rmtree(POOLS / Path(tmp).name, ignore_errors=True)

    stages = len(loaded.stages)
    engine = sum(1 for s in loaded.stages if s.source == "engine")
    print(f"stages in the report: {stages} ({engine} on the engine, the rest offline plans)")
    print(f"preview --all: median {median(alls):.1f} s over {runs} runs")
    for stage in LIBVIRT:
        print(f"  preview {stage}: median {median(singles[stage]):.1f} s")
    ratio = median(alls) / median(singles[slowest])
    print(f"ratio preview --all / slowest single ({slowest}): {ratio:.2f}x (target <= 1.5x)")
    print(f"summary generation for {stages} stages: {max(renders) * 1000:.0f} ms at most")
    print(f"plan --all: median {median(warm):.1f} s warm cache, {median(cold):.1f} s --no-cache")


if __name__ == "__main__":
    main()
