"""Plan time and peak memory per target, against a program that loads every cloud SDK.

For one stage per target, `stageline plan <stage>` runs in a fresh process (its upstream's
outputs given from a file, so that only the stage's own target is loaded); peak memory is that
process's max RSS from wait4. The reference is one process that plans a stage of each cloud
(aws, azure and gcp), so it imports every SDK module the three targets use. A stage loads only
its own target's SDK; the check is that its peak stays within 60% of that reference.

    python benchmarks/target_benchmark.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# The sibling benchmark's fresh-process sample, so both report peaks measured the same way.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_benchmark import ROOT, Sample, measure

from stageline.stack_files import list_stack_files, stacks_dir

CLOUDS = ("aws", "azure", "gcp")
LIMIT = 0.60
ALL_SDKS = "all cloud SDKs (aws+azure+gcp)"


def stage_per_target() -> dict[str, str]:
    """The first stage of each target, preferring an entry stage (no upstream to stand in for)."""
    chosen: dict[str, str] = {}
    for stack in sorted(
        list_stack_files(stacks_dir(ROOT)), key=lambda s: "promotesFrom" in s.values
    ):
        chosen.setdefault(str(stack.values.get("target")), stack.name)
    return chosen


def upstream_outputs(stage: str, folder: Path) -> list[str]:
    """`--upstream-outputs FILE` with the upstream's planned exports, or nothing for an entry
    stage. Planning the upstream in the measured process would load the upstream's SDK too."""
    values = next(s.values for s in list_stack_files(stacks_dir(ROOT)) if s.name == stage)
    upstream = values.get("promotesFrom")
    if not upstream:
        return []
    path = folder / f"{upstream}.json"
    if not path.exists():
        result = subprocess.run(
            [sys.executable, "-m", "stageline.cli.main", "plan", upstream, "--format", "json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        path.write_text(json.dumps(json.loads(result.stdout)[upstream]["exports"]))
    return ["--upstream-outputs", str(path)]


def plan_argv(stage: str, folder: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "stageline.cli.main",
        "plan",
        stage,
        *upstream_outputs(stage, folder),
    ]


def all_sdks_program(stages: list[list[str]]) -> None:
    """Plan each stage in this one process: every cloud SDK the template uses gets loaded."""
    from stageline.cli.main import cli

    for args in stages:
        cli(["plan", *args], standalone_mode=False)


def summarize(samples: list[Sample]) -> tuple[float, float, float, float]:
    secs = [s.seconds for s in samples]
    mbs = [s.peak_mb for s in samples]
    return statistics.median(secs), max(secs), statistics.median(mbs), max(mbs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--all-sdks-program", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.all_sdks_program:
        all_sdks_program(json.loads(args.all_sdks_program))
        return

    stages = stage_per_target()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = {
            f"{target}: plan {stage}": plan_argv(stage, folder) for target, stage in stages.items()
        }
        clouds = [plan_argv(stages[t], folder)[4:] for t in CLOUDS if t in stages]
        cases[ALL_SDKS] = [sys.executable, __file__, "--all-sdks-program", json.dumps(clouds)]

        print(f"{'case':34} {'median s':>9} {'max s':>7} {'median MB':>10} {'max MB':>8}")
        results: dict[str, tuple[float, float, float, float]] = {}
        for name, argv in cases.items():
            measure(argv)  # warm the page cache and bytecode so runs compare like for like
            results[name] = summarize([measure(argv) for _ in range(args.runs)])
            med_s, max_s, med_mb, max_mb = results[name]
            print(f"{name:34} {med_s:9.2f} {max_s:7.2f} {med_mb:10.1f} {max_mb:8.1f}")

    reference = results[ALL_SDKS][2]
    print(f"\nsingle-target peak (median) against {ALL_SDKS} ({reference:.1f} MB):")
    ok = True
    for name, (_, _, peak, _) in results.items():
        if name == ALL_SDKS:
            continue
        share = peak / reference
        passed = share <= LIMIT
        ok &= passed
        print(f"  {name:32} {peak:7.1f} MB = {share:4.0%}  {'<=' if passed else '>'} {LIMIT:.0%}")
    print(
        f"every single-target peak <= {LIMIT:.0%} of the all-SDKs figure: {'yes' if ok else 'no'}"
    )


if __name__ == "__main__":
    main()
