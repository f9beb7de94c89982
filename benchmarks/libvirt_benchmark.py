"""Wall times of the `local` stage on the real libvirt: a cold `up`, no-op `up`s and `destroy`.

    scripts/services && python benchmarks/libvirt_benchmark.py [--runs 3]

Each command is a fresh `stageline` process, as a user runs it, on a throwaway copy of the
project (Pulumi writes a passphrase salt into the stack file) and a throwaway file backend;
the stage must not already exist on this libvirt.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "stageline.cli.main", *args],
        cwd=env["STAGELINE_PROJECT_DIR"],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"stageline {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="no-op ups to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stageline-bench-") as scratch:
        project = Path(scratch) / "project"
        project.mkdir()
        shutil.copy(ROOT / "Pulumi.yaml", project)
        shutil.copytree(ROOT / "stacks", project / "stacks")
        shutil.copytree(ROOT / "examples", project / "examples")
        # The local stage's baseImage is relative to the project.
        (project / ".stageline").symlink_to(ROOT / ".stageline")
        state = Path(scratch) / "state"
        state.mkdir()
        env = {
            **os.environ,
            "STAGELINE_PROJECT_DIR": str(project),
            "STAGELINE_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": "benchmark",
        }
        cold = timed(["up", "local"], env)
        noop = [timed(["up", "local"], env) for _ in range(args.runs)]
        destroy = timed(["destroy", "local", "--yes"], env)
    print(f"cold up local:     {cold:6.2f} s")
    print(
        f"no-op up local:    {statistics.median(noop):6.2f} s median, {max(noop):.2f} s max "
        f"over {args.runs} runs (target < 5 s)"
    )
    print(f"destroy local:     {destroy:6.2f} s")


if __name__ == "__main__":
    main()
