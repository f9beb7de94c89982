"""Cold and warm times of the engine bootstrap (`stageline engine install`).

    python benchmarks/engine_benchmark.py            # warm: the installed engine, 5 runs
    python benchmarks/engine_benchmark.py --cold     # also a cold build from scratch

Cold uses a fresh stageline home, Go build cache and Go module cache in a temporary folder,
so it downloads every module from the proxy and compiles everything: what a fresh machine
does. Warm is a new process finding the current install, as every later setup does.
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
BOOTSTRAP = [sys.executable, "-m", "stageline.cli.main", "engine", "install"]


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="also time a build from scratch")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "STAGELINE_ENGINE_OFFLINE": "1"}
    if args.cold:
        scratch = Path(tempfile.mkdtemp(prefix="stageline-cold-"))
        try:
            cold_env = {
                **env,
                "GOCACHE": str(scratch / "gocache"),
                "GOMODCACHE": str(scratch / "gomodcache"),
            }
            seconds = timed([*BOOTSTRAP, "--home", str(scratch / "home")], cold_env)
            print(f"cold install (empty Go caches, modules downloaded): {seconds:7.1f} s")
        finally:
            # The module cache is written read-only; make it deletable first.
            subprocess.run(["chmod", "-R", "u+w", str(scratch)], check=False)
            shutil.rmtree(scratch, ignore_errors=True)
    timed(BOOTSTRAP, env)  # make sure the default home holds a current install
    warm = [timed(BOOTSTRAP, env) for _ in range(args.runs)]
    print(
        f"warm install (new process, current install): median {statistics.median(warm):.2f} s,"
        f" max {max(warm):.2f} s over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
