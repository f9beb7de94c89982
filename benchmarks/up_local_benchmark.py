"""No-op `stageline up local` against a no-op `pulumi up` of an empty Python program, as a ratio;
and a cold `up local` until the guests are healthy, against the guests' own boot and setup.

    scripts/services && python benchmarks/up_local_benchmark.py [--runs 5] [--profile DIR]

Deploys `local` once on the real libvirt (holding /tmp/stageline-libvirt.lock throughout, as
every libvirt user here does) and waits until its app serves: that cold `up` is compared with
the time the slowest guest itself took from power-on to the end of its setup (read inside the
guest), and the memory each guest's QEMU process holds is printed. Then it times no-op
`stageline up local` runs (which include asking the guests whether they are healthy)
interleaved with no-op `pulumi up --skip-preview --yes` runs of an empty Python program in a
temporary project on the same engine, backend folder and environment; then destroys `local`.
Prints both medians and their ratio. With --profile, one extra no-op `up` is run under
cProfile (the stageline process: Automation API calls, waits on the engine), and its path is
printed.
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = Path("/tmp/stageline-libvirt.lock")
TARGET = 1.5
EMPTY_PROGRAM = "import pulumi\n\npulumi.export('ok', True)\n"


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


@dataclass(frozen=True)
class Guest:
    name: str
    setup_s: float
    rss_mib: float


# Inside the guest: seconds from boot (the kernel's btime) to the setup's done marker.
SETUP_SECONDS = (
    "import os\n"
    "btime = next(int(l.split()[1]) for l in open('/proc/stat') if l.startswith('btime'))\n"
    "print(os.stat('/var/lib/stageline/setup-done').st_mtime - btime)\n"
)


def guest_figures(prefix: str) -> list[Guest]:
    import libvirt

    from components.libvirt.health import guest_exec

    conn = libvirt.open("qemu:///system")
    try:
        found = []
        for dom in conn.listAllDomains():
            if not dom.name().startswith(prefix):
                continue
            code, out, err = guest_exec(dom, "/usr/bin/python3", ["-c", SETUP_SECONDS])
            if code != 0:
                raise SystemExit(f"{dom.name()}: {err}")
            pid = Path(f"/run/libvirt/qemu/{dom.name()}.pid").read_text().strip()
            rss_kib = next(
                int(line.split()[1])
                for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmRSS:")
            )
            found.append(Guest(dom.name(), float(out), rss_kib / 1024))
        return sorted(found, key=lambda g: g.name)
    finally:
        conn.close()


def engine_env() -> dict[str, str]:
    from stageline.engine import engine_env as stageline_engine_env

    return stageline_engine_env()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", type=Path, help="also profile one no-op up into DIR")
    args = parser.parse_args()
    LOCK.touch(exist_ok=True)
    with LOCK.open() as lock, tempfile.TemporaryDirectory(prefix="stageline-up-bench-") as tmp:
        fcntl.flock(lock, fcntl.LOCK_EX)
        scratch = Path(tmp)
        project = scratch / "project"
        project.mkdir()
        shutil.copy(ROOT / "Pulumi.yaml", project)
        shutil.copytree(ROOT / "stacks", project / "stacks")
        shutil.copytree(ROOT / "examples", project / "examples")
        (project / ".stageline").symlink_to(ROOT / ".stageline")
        (project / ".venv").symlink_to(ROOT / ".venv")
        state = scratch / "state"
        state.mkdir()
        env = {
            **os.environ,
            **engine_env(),
            "PYTHONPATH": str(ROOT),
            "STAGELINE_PROJECT_DIR": str(project),
            "STAGELINE_BACKEND_URL": f"file://{state}",
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": "benchmark",
        }
        empty = scratch / "empty"
        empty.mkdir()
        (empty / "Pulumi.yaml").write_text(
            "name: empty\nruntime:\n  name: python\n"
            f"  options:\n    toolchain: pip\n    virtualenv: {ROOT / '.venv'}\n"
        )
        (empty / "__main__.py").write_text(EMPTY_PROGRAM)
        pulumi = [str(ROOT / ".stageline" / "engine" / "bin" / "pulumi")]
        stageline = [sys.executable, "-m", "stageline.cli.main"]
        run([*pulumi, "stack", "init", "organization/empty/bench"], empty, env)
        loop_argv = [*stageline, "up", "local"]
        nowait_argv = [*loop_argv, "--no-wait"]
        ref_argv = [*pulumi, "up", "--skip-preview", "--yes", "-s", "organization/empty/bench"]
        try:
            cold = run(loop_argv, project, env)
            guests = guest_figures("local-")
            run(ref_argv, empty, env)  # the reference's first up creates its stack resource
            loop: list[float] = []
            nowait: list[float] = []
            ref: list[float] = []
            for i in range(args.runs):
                runs = [(loop, loop_argv, project), (nowait, nowait_argv, project)]
                runs.append((ref, ref_argv, empty))
                for sink, argv, cwd in runs if i % 2 == 0 else reversed(runs):
                    sink.append(run(argv, cwd, env))
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                prof = args.profile / "up-local.prof"
                profiled = [sys.executable, "-m", "cProfile", "-o", str(prof)]
                run([*profiled, "-m", "stageline.cli.main", "up", "local"], project, env)
                print(f"profile of the stageline process: {prof}")
        finally:
            # Best effort, so that a failed run's own error is the one shown.
            subprocess.run([*stageline, "destroy", "local", "--yes"], cwd=project, env=env)
            run([*pulumi, "destroy", "--yes", "-s", "organization/empty/bench"], empty, env)
    lm, nm, rm = statistics.median(loop), statistics.median(nowait), statistics.median(ref)
    slowest = max(g.setup_s for g in guests)
    print(f"cold up local until healthy: {cold:.1f} s (target <= 180 s under TCG)")
    print(f"slowest guest, power-on to setup done (its own clock): {slowest:.1f} s")
    print(f"ratio {cold / slowest:.2f}x (stageline's whole cold up over the slowest guest's boot)")
    for g in guests:
        print(f"guest {g.name:14} setup {g.setup_s:6.1f} s  QEMU RSS {g.rss_mib:6.0f} MiB")
    print(f"{'loop':40} {'median s':>9}")
    print(f"{'no-op stageline up local':40} {lm:9.2f}  (target <= 5 s)")
    print(f"{'no-op stageline up local --no-wait':40} {nm:9.2f}")
    print(f"{'no-op pulumi up, empty Python program':40} {rm:9.2f}")
    print(
        f"ratio {lm / rm:.2f}x with the health check, {nm / rm:.2f}x without it"
        f" (target <= {TARGET}x)"
    )
    print(f"over {args.runs} interleaved runs each; the check asks each guest through its agent")


if __name__ == "__main__":
    main()
