"""Wall time and peak memory of `stageline plan prod` and `stageline plan --all`.

Each run is a fresh process, as a user or CI runs it; peak memory is that process's max RSS
from wait4. Prints the median and worst of N runs, and the same for a plain hand-written
program of a similar AWS environment under mocks, as a reference on this machine.

    python benchmarks/plan_benchmark.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS_TEXT = {
    "plan prod": "target < 2.5 s, < 150 MB",
    "plan --all": "target < 10 s",
    "baseline (hand-written, mocks)": "reference",
}


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_mb: float


def measure(argv: list[str]) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err}")
    return Sample(elapsed, usage.ru_maxrss / 1024)  # ru_maxrss is KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "stageline.cli.main"]
    cases = {
        "plan prod": [*cli, "plan", "prod"],
        "plan --all": [*cli, "plan", "--all"],
        "baseline (hand-written, mocks)": [sys.executable, "benchmarks/baseline_program.py"],
    }
    print(f"{'case':34} {'median s':>9} {'max s':>7} {'median MB':>10} {'max MB':>8}  target")
    for name, argv in cases.items():
        measure(argv)  # warm the page cache and bytecode so runs compare like for like
        samples = [measure(argv) for _ in range(args.runs)]
        secs = [s.seconds for s in samples]
        mbs = [s.peak_mb for s in samples]
        print(
            f"{name:34} {statistics.median(secs):9.2f} {max(secs):7.2f} "
            f"{statistics.median(mbs):10.1f} {max(mbs):8.1f}  {TARGETS_TEXT[name]}"
        )


if __name__ == "__main__":
    main()
