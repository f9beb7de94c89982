"""`stageline plan` against references measured in the same run, as ratios.

Every command is a fresh process, as a user or CI runs it; peak memory is its max RSS from
wait4 (children included). Each loop and its reference run interleaved, N times each after one
warm-up run of both (page cache, bytecode, and the plan cache, which the warm-up fills as a
user's first plan does); a ratio is median(loop) / median(reference).

    python benchmarks/plan_benchmark.py [--runs 5]

| loop                            | reference                                              |
| plan prod                       | benchmarks/baseline_program.py (hand-written, mocks)   |
| plan --all                      | benchmarks/sdk_classes.py (the cloud SDK classes used) |
| peak memory, plan sandbox-azure | plan sandbox-azure --upstream-outputs <dev's outputs>  |

`plan prod --no-cache` (every upstream planned again) is shown beside the first row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "stageline.cli.main"]


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_mb: float


def measure(argv: list[str], env: dict[str, str] | None = None) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed ({code}):\n{err}")
    return Sample(elapsed, usage.ru_maxrss / 1024)  # ru_maxrss is KiB on Linux


@dataclass(frozen=True)
class Row:
    name: str
    loop: list[str]
    reference: list[str]
    metric: Callable[[Sample], float]
    unit: str
    target: float


def interleaved(row: Row, runs: int, env: dict[str, str]) -> tuple[float, float]:
    measure(row.loop, env)
    measure(row.reference, env)
    loop: list[float] = []
    ref: list[float] = []
    for i in range(runs):
        # Alternate which goes first, so a burst of load elsewhere hits both alike.
        pair = [(loop, row.loop), (ref, row.reference)]
        for sink, argv in pair if i % 2 == 0 else reversed(pair):
            sink.append(row.metric(measure(argv, env)))
    return statistics.median(loop), statistics.median(ref)


def dev_outputs(folder: Path, env: dict[str, str]) -> Path:
    result = subprocess.run(
        [*CLI, "plan", "dev", "--format", "json", "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    path = folder / "dev.json"
    path.write_text(json.dumps(json.loads(result.stdout)["dev"]["exports"]))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stageline-plan-bench-") as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "STAGELINE_PLAN_CACHE": str(Path(tmp) / "cache"),
        }
        outputs = dev_outputs(Path(tmp), env)

        def seconds(s: Sample) -> float:
            return s.seconds

        def peak(s: Sample) -> float:
            return s.peak_mb

        baseline = [sys.executable, "benchmarks/baseline_program.py"]
        rows = [
            Row("plan prod", [*CLI, "plan", "prod"], baseline, seconds, "s", 1.3),
            Row(
                "plan prod --no-cache",
                [*CLI, "plan", "prod", "--no-cache"],
                baseline,
                seconds,
                "s",
                1.3,
            ),
            Row(
                "plan --all",
                [*CLI, "plan", "--all"],
                [sys.executable, "benchmarks/sdk_classes.py"],
                seconds,
                "s",
                1.5,
            ),
            Row(
                "peak memory, plan sandbox-azure",
                [*CLI, "plan", "sandbox-azure"],
                [*CLI, "plan", "sandbox-azure", "--upstream-outputs", str(outputs)],
                peak,
                "MB",
                1.1,
            ),
        ]
        print(f"{'loop':34} {'loop':>9} {'reference':>10} {'ratio':>7}  target")
        for row in rows:
            loop, ref = interleaved(row, args.runs, env)
            ratio = loop / ref
            verdict = "ok" if ratio <= row.target else "over"
            print(
                f"{row.name:34} {loop:7.2f}{row.unit:>2} {ref:8.2f}{row.unit:>2} "
                f"{ratio:6.2f}x  <= {row.target}x {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()
