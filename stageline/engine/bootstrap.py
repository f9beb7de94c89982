"""Install the Pulumi engine into a git-ignored folder, offline if need be.

The ways, in order (see DESIGN.md, "The real engine, offline"):

1. our own earlier install, when its stamp still matches the pinned wrapper module;
2. a ``pulumi`` already on PATH that is new enough;
3. the official download (``PulumiCommand.install``), only where its site answers;
4. a build from Go modules, pinned by ``engine/go.mod`` and ``engine/go.sum``.

Run ``python -m stageline.engine.bootstrap`` to install and print what was done.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from stageline.engine import launcher
from stageline.engine.plugins import (
    DOWNLOAD_HOST,
    OFFLINE_ENV,
    PluginReport,
    Probe,
    Runner,
    acquisition_env,
    can_download,
    install_plugins,
    sdk_plugins,
)

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
# The wrapper Go module whose go.mod/go.sum pin every engine binary we build.
WRAPPER_DIR = REPO_ROOT / "engine"
DEFAULT_HOME = REPO_ROOT / ".stageline"
# Another stageline home for the engine and its plugins, e.g. to try an engine beside the
# checkout's own.
HOME_ENV = "STAGELINE_HOME"

PKG_MODULE = "github.com/pulumi/pulumi/pkg/v3"
SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3"
VERSION_SYMBOL = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"

# Older CLIs lack engine features the Automation API of our pinned SDK relies on.
MIN_PATH_VERSION = (3, 200, 0)


# Part of the stamp: bump it when the build steps below change, so that a warm install made
# by older steps is rebuilt rather than reported as current.
RECIPE = "2"
STAMP_NAME = ".stageline-engine.json"
LANGUAGE_HOST = "pulumi-language-python"
# Where built engines are cached by content hash (default /var/cache/stageline, else the
# user's cache folder).
CACHE_ENV = "STAGELINE_CACHE_DIR"

Way = Literal["path", "download", "build"]


@dataclass(frozen=True)
class GoTarget:
    """One binary built from a Go module required by a wrapper go.mod."""

    binary: str
    package: str
    module: str
    # Relative to WRAPPER_DIR: a provider whose dependencies clash with pkg/v3 gets its own.
    module_dir: str = "."
    required: bool = False


TARGETS: tuple[GoTarget, ...] = (
    GoTarget("pulumi", f"{PKG_MODULE}/cmd/pulumi", PKG_MODULE, required=True),
    # The language host's own module is not served here (see engine/go.mod), so it is built
    # from sdk/v3 at the last release that still carried it; see language-python/tools.go.
    GoTarget(
        "pulumi-language-python",
        f"{SDK_MODULE}/python/cmd/pulumi-language-python",
        SDK_MODULE,
        module_dir="language-python",
    ),
    GoTarget(
        "pulumi-resource-command",
        "github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command",
        "github.com/pulumi/pulumi-command/provider",
        module_dir="providers/command",
    ),
)

# Scripts that ship beside the official binaries, as paths inside the sdk/v3 module (whose
# root is the repository's sdk/ folder). The exec script must sit next to the language host,
# which looks for it there.
SDK_SCRIPTS: tuple[tuple[str, bool], ...] = (
    ("python/cmd/pulumi-language-python-exec", True),
    ("python/dist/pulumi-resource-pulumi-python", True),
    ("python/dist/pulumi-analyzer-policy-python", False),
)


class EngineNotAvailableError(RuntimeError):
    """No way of installing the engine worked; the message says what is missing."""


@dataclass(frozen=True)
class InstallReport:
    """What ``install`` did, for people and for callers that need the paths."""

    way: Way
    already_installed: bool
    version: str
    # The folder that holds bin/pulumi: what PulumiCommand(root=...) expects.
    root: Path
    bin_dir: Path
    pulumi: Path
    files: tuple[Path, ...]
    size_bytes: int
    seconds: float
    notes: tuple[str, ...] = ()
    plugins: PluginReport | None = None

    def summary(self) -> str:
        state = "already installed" if self.already_installed else "installed"
        lines = [
            f"pulumi {self.version} {state} (way: {self.way}) in {self.seconds:.1f}s",
            f"  pulumi:  {self.pulumi}",
            f"  bin dir: {self.bin_dir} ({self.size_bytes / 2**20:.0f} MiB)",
        ]
        lines += [f"  file:    {_shown(f, self.root)}" for f in self.files]
        lines += [f"  note:    {n}" for n in self.notes]
        return "\n".join(lines)


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


@dataclass(frozen=True)
class Layout:
    """Where an install lives under a stageline home (``<repo>/.stageline`` by default)."""

    home: Path

    @classmethod
    def for_home(cls, home: Path | None) -> Layout:
        given = os.environ.get(HOME_ENV)
        return cls((home or (Path(given) if given else DEFAULT_HOME)).resolve())

    @property
    def root(self) -> Path:
        return self.home / "engine"

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def pulumi_home(self) -> Path:
        return self.home / "pulumi-home"

    @property
    def acquisition(self) -> Path:
        """Whether the last install could download plugins."""
        return self.root / "acquisition.json"

    @property
    def stamp(self) -> Path:
        return self.bin_dir / STAMP_NAME


@dataclass
class _Attempts:
    """Why each way was passed over, for the notes and for the final error."""

    reasons: list[str] = field(default_factory=list)

    def add(self, way: str, reason: str) -> None:
        log.info("%s: %s", way, reason)
        self.reasons.append(f"{way}: {reason}")


def engine_env(home: Path | None = None, online: bool | None = None) -> dict[str, str]:
    """Variables to add to a process environment so that it runs the installed engine.

    ``online`` says whether plugins can be downloaded here; None takes what the last install
    found (see ``install``), so that commands never probe the network themselves.
    """
    layout = Layout.for_home(home)
    if online is None:
        online = _recorded_online(layout)
    path = os.environ.get("PATH", "")
    # The bin dir comes first so that plugins built beside pulumi win over ambient ones. The
    # interpreter running stageline comes next: the language host and the dynamic-provider
    # script start `python3` from PATH, and only this one has the Pulumi SDK installed.
    prefix = [str(layout.bin_dir), str(Path(sys.executable).parent)]
    return {
        "PATH": os.pathsep.join([*prefix, path] if path else prefix),
        # Plugins installed with `pulumi plugin install` land in PULUMI_HOME/plugins; keep them
        # inside the git-ignored home instead of the user's ~/.pulumi.
        "PULUMI_HOME": str(layout.pulumi_home),
        # Where nothing can be downloaded, a missing plugin must fail fast rather than hang on
        # a download that cannot succeed; elsewhere the engine may fetch what it lacks.
        **acquisition_env(online),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        # Provider processes (libvirt's dynamic providers) fork `ssh`; see stageline/__init__.py.
        "GRPC_ENABLE_FORK_SUPPORT": "false",
    }


def install(
    home: Path | None = None,
    force: bool = False,
    probe: Probe | None = None,
    run_plugin: Runner | None = None,
) -> InstallReport:
    """Make a working Pulumi engine available, with the SDKs' provider plugins, and report how.

    ``force`` ignores a current install and a PATH pulumi, and installs afresh. ``probe`` says
    whether the download site answers (default: ask it once); ``run_plugin`` runs
    ``pulumi plugin install`` (default: a subprocess). Both are seams for tests.
    Raises ``EngineNotAvailableError`` when no way works.
    """
    report = _install_engine(home, force, probe)
    online = can_download(probe)
    layout = Layout.for_home(home)
    _record_online(layout, online)
    kwargs = {} if run_plugin is None else {"run": run_plugin}
    plugins = install_plugins(
        report.pulumi,
        layout.pulumi_home,
        {**os.environ, **engine_env(home, online)},
        sdk_plugins(),
        online,
        **kwargs,
    )
    return _with_plugins(report, plugins)


def _record_online(layout: Layout, online: bool) -> None:
    # Commands read this instead of probing the download site on every run.
    layout.acquisition.write_text(json.dumps({"online": online}))


def _recorded_online(layout: Layout) -> bool:
    """What the last install found; without one, fail fast on a missing plugin."""
    try:
        return bool(json.loads(layout.acquisition.read_text()).get("online"))
    except (OSError, ValueError, AttributeError):
        return False


def _with_plugins(report: InstallReport, plugins: PluginReport) -> InstallReport:
    notes = list(report.notes)
    if plugins.installed:
        notes.append("plugins installed: " + ", ".join(str(p) for p in plugins.installed))
    if plugins.present:
        notes.append("plugins present: " + ", ".join(str(p) for p in plugins.present))
    notes += plugins.notes
    return dataclasses.replace(report, notes=tuple(notes), plugins=plugins)


def _install_engine(home: Path | None, force: bool, probe: Probe | None) -> InstallReport:
    started = time.monotonic()
    layout = Layout.for_home(home)
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.pulumi_home.mkdir(parents=True, exist_ok=True)
    pinned = pinned_version()
    attempts = _Attempts()

    # Serialises concurrent installs (parallel test workers) on the same folder.
    with _locked(layout.root / ".install.lock"):
        if not force:
            report = _current_install(layout, pinned, started)
            if report is not None:
                return report

            exe, version = _path_pulumi(exclude=layout.bin_dir)
            if exe is None:
                attempts.add("PATH", "no pulumi on PATH")
            elif version is None:
                attempts.add("PATH", f"`{exe} version` failed")
            elif _version_tuple(version) < MIN_PATH_VERSION:
                attempts.add("PATH", f"{exe} is {version}, older than {_fmt(MIN_PATH_VERSION)}")
            else:
                return _report(layout, "path", False, version, exe, [exe], started, [])

        online = not os.environ.get(OFFLINE_ENV) and can_download(probe)
        if _download(layout, pinned, attempts, online):
            files = [layout.root / "bin" / "pulumi"]
            notes = list(attempts.reasons)
            _write_stamp(layout, "download", _download_key(pinned), pinned, files, notes)
            return _report(layout, "download", False, pinned, files[0], files, started, notes)

        built = _build(layout, pinned, attempts, fresh=force)
        if built is not None:
            files, notes = built
            notes = attempts.reasons + notes
            return _report(layout, "build", False, pinned, files[0], files, started, notes)

    raise EngineNotAvailableError(
        "No Pulumi engine could be installed:\n"
        + "\n".join(f"  - {r}" for r in attempts.reasons)
        + "\nTo fix: install Go >= "
        + _go_directive()
        + " (with the Go module proxy reachable) and run `python -m stageline.engine.bootstrap`"
        + f", or put a pulumi CLI >= {_fmt(MIN_PATH_VERSION)} on PATH."
    )


def pinned_version() -> str:
    """The pulumi release the wrapper module pins, e.g. ``v3.274.1``."""
    go_mod = WRAPPER_DIR / "go.mod"
    if not go_mod.is_file():
        raise EngineNotAvailableError(
            f"{go_mod} is missing: run from a stageline checkout, which pins the engine there"
        )
    requires = _go_mod_requires(go_mod)
    pkg, sdk = requires.get(PKG_MODULE), requires.get(SDK_MODULE)
    if pkg is None or pkg != sdk:
        raise EngineNotAvailableError(
            f"{go_mod} must require {PKG_MODULE} and {SDK_MODULE} at one "
            f"version (found {pkg} and {sdk})"
        )
    return pkg


# --- way 0: an earlier install of ours -------------------------------------------------------


def _current_install(layout: Layout, pinned: str, started: float) -> InstallReport | None:
    try:
        stamp = json.loads(layout.stamp.read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("key") not in {_build_key(), _download_key(pinned)}:
        return None
    # Paths relative to the engine root: the launcher's host lives in libexec/.
    files = [layout.root / name for name in stamp.get("files", [])]
    if not files or not all(os.access(f, os.X_OK) for f in files):
        return None
    way = stamp.get("way")
    if way not in ("build", "download"):
        return None
    notes = list(stamp.get("notes", []))
    version = str(stamp.get("version", ""))
    return _report(layout, cast(Way, way), True, version, files[0], files, started, notes)


def _build_key() -> str:
    digest = hashlib.sha256(RECIPE.encode())
    digest.update(repr(TARGETS + SDK_SCRIPTS).encode())
    digest.update(launcher.SCRIPT.encode())
    for module_dir in sorted({t.module_dir for t in TARGETS}):
        for name in ("go.mod", "go.sum"):
            path = WRAPPER_DIR / module_dir / name
            digest.update(f"{module_dir}/{name}\0".encode())
            with contextlib.suppress(FileNotFoundError):
                digest.update(path.read_bytes())
    return "build:" + digest.hexdigest()


def _download_key(pinned: str) -> str:
    return f"download:{pinned}"


def _write_stamp(
    layout: Layout, way: Way, key: str, version: str, files: list[Path], notes: list[str]
) -> None:
    stamp = {
        "recipe": RECIPE,
        "way": way,
        "key": key,
        "version": version,
        "files": [str(f.relative_to(layout.root)) for f in files],
        "notes": notes,
    }
    tmp = layout.stamp.with_suffix(".tmp")
    tmp.write_text(json.dumps(stamp, indent=2) + "\n")
    # Written last and atomically: an interrupted install never looks current.
    tmp.replace(layout.stamp)


# --- way 1: PATH ---------------------------------------------------------------------------


def _path_pulumi(exclude: Path) -> tuple[Path | None, str | None]:
    """The first pulumi on PATH outside our bin dir, and its version when it runs."""
    # Our own bin dir is on PATH whenever engine_env was applied; it is not "ambient" pulumi.
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not _same(d, exclude)]
    found = shutil.which("pulumi", path=os.pathsep.join(dirs))
    if found is None:
        return None, None
    exe = Path(found)
    try:
        out = subprocess.run(
            [str(exe), "version"],
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return exe, None
    return exe, out


def _same(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return False


# --- way 2: the official download ------------------------------------------------------------


def _download(layout: Layout, pinned: str, attempts: _Attempts, online: bool) -> bool:
    if os.environ.get(OFFLINE_ENV):
        attempts.add("download", f"skipped ({OFFLINE_ENV} is set)")
        return False
    if not online:
        attempts.add("download", f"{DOWNLOAD_HOST} is not reachable")
        return False
    try:
        from pulumi.automation import PulumiCommand
        from semver import VersionInfo
    except ImportError as exc:
        attempts.add("download", f"the pulumi Python SDK is not importable ({exc})")
        return False
    try:
        PulumiCommand.install(
            root=str(layout.root), version=VersionInfo.parse(pinned.removeprefix("v"))
        )
    except Exception as exc:  # the SDK raises bare errors from urllib and subprocess
        attempts.add("download", f"PulumiCommand.install failed: {exc}")
        return False
    return (layout.bin_dir / "pulumi").exists()


# --- way 3: build from Go modules ------------------------------------------------------------


def _build(
    layout: Layout, pinned: str, attempts: _Attempts, fresh: bool = False
) -> tuple[list[Path], list[str]] | None:
    # Taken before building: a go.mod edited meanwhile then leaves a stale stamp, not a wrong one.
    key = _build_key()
    cache = engine_cache_dir() / key.removeprefix("build:")
    cache.parent.mkdir(parents=True, exist_ok=True)
    # One build per content hash, shared by every checkout on the machine: a fresh clone
    # links the cached binaries in seconds instead of building them again.
    with _locked(cache.with_name(cache.name + ".lock")):
        manifest = None if fresh else _cached_build(cache)
        if manifest is None:
            built = _build_into(cache, pinned, attempts)
            if built is None:
                return None
            manifest = built
        else:
            log.info("reusing the engine built in %s", cache)
    relative, notes = manifest
    files = _link_tree(cache, layout.root, relative)
    _write_stamp(layout, "build", key, pinned, files, notes)
    return files, [*notes, f"build cached in {cache}"]


def engine_cache_dir() -> Path:
    """Where built engines are kept by content hash, outside any checkout."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given) / "engine"
    system = Path("/var/cache/stageline")
    with contextlib.suppress(OSError):
        system.mkdir(parents=True, exist_ok=True)
    if os.access(system, os.W_OK):
        return system / "engine"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "stageline" / "engine"


_MANIFEST = "manifest.json"


def _cached_build(cache: Path) -> tuple[list[str], list[str]] | None:
    try:
        manifest = json.loads((cache / _MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    relative = [str(f) for f in manifest.get("files", [])]
    if not relative or not all(os.access(cache / f, os.X_OK) for f in relative):
        return None
    return relative, [str(n) for n in manifest.get("notes", [])]


def _link_tree(source: Path, dest: Path, relative: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for name in relative:
        final = dest / name
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(source / name, tmp)
        except OSError:
            # Another filesystem: a copy costs a second and the same disk as before.
            shutil.copy2(source / name, tmp)
        tmp.replace(final)
        files.append(final)
    return files


def _build_into(
    cache: Path, pinned: str, attempts: _Attempts
) -> tuple[list[str], list[str]] | None:
    go = shutil.which("go")
    if go is None:
        attempts.add("build", "no `go` on PATH")
        return None
    notes: list[str] = []

    groups: dict[str, list[GoTarget]] = {}
    for target in TARGETS:
        go_mod = WRAPPER_DIR / target.module_dir / "go.mod"
        if target.module in _go_mod_requires(go_mod):
            groups.setdefault(target.module_dir, []).append(target)
        elif target.required:
            attempts.add("build", f"{go_mod} does not require {target.module}")
            return None
        else:
            notes.append(f"{target.binary} not built: no wrapper go.mod requires {target.module}")

    staging = cache.with_name(cache.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    out = staging / "out"
    out.mkdir(parents=True)
    try:
        env, go_version = _go_env(go)
        for module_dir, targets in groups.items():
            log.info(
                "building %s with %s (a cold build takes minutes; warm ones seconds)",
                ", ".join(t.binary for t in targets),
                go_version,
            )
            # -s -w drop the symbol table and DWARF: a third smaller, and panics still
            # print stack traces. The version is stamped where `pulumi version` reads it:
            # each binary gets the sdk/v3 release it was really built from.
            version = _go_mod_requires(WRAPPER_DIR / module_dir / "go.mod").get(SDK_MODULE, pinned)
            ldflags = f"-s -w -X {VERSION_SYMBOL}={version}"
            _run(
                [go, "build", "-ldflags", ldflags, "-o", f"{out}{os.sep}"]
                + [t.package for t in targets],
                cwd=WRAPPER_DIR / module_dir,
                env=env,
            )
        sdk_dir = Path(
            json.loads(
                _run([go, "mod", "download", "-json", SDK_MODULE], cwd=WRAPPER_DIR, env=env)
            )["Dir"]
        )
        for relative, required in SDK_SCRIPTS:
            source = sdk_dir / relative
            if not source.is_file():
                if required:
                    raise _BuildError(f"{SDK_MODULE} {pinned} has no {relative}")
                notes.append(f"{source.name} not installed: {SDK_MODULE} {pinned} has none")
                continue
            # Module cache files are read-only; copy the bytes, then make the copy executable.
            shutil.copyfile(source, out / source.name)
        tree = staging / "tree"
        files: list[str] = []
        for built in sorted(out.iterdir(), key=lambda p: (p.name != "pulumi", p.name)):
            # The built host takes its virtualenv as flags that today's CLI no longer passes:
            # it goes to libexec/, and the launcher that passes them takes its name in bin/.
            place = "libexec" if built.name == LANGUAGE_HOST else "bin"
            (tree / place).mkdir(parents=True, exist_ok=True)
            built.chmod(0o755)
            built.replace(tree / place / built.name)
            files.append(f"{place}/{built.name}")
        if f"libexec/{LANGUAGE_HOST}" in files:
            script = tree / "bin" / LANGUAGE_HOST
            script.write_text(launcher.SCRIPT)
            script.chmod(0o755)
            files.insert(1, f"bin/{LANGUAGE_HOST}")
        manifest = {"key": cache.name, "files": files, "notes": notes}
        (tree / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        shutil.rmtree(cache, ignore_errors=True)
        # Renamed into place last: an interrupted build never looks cached.
        tree.replace(cache)
    except _BuildError as exc:
        attempts.add("build", str(exc))
        return None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files, notes


class _BuildError(Exception):
    pass


def _go_env(go: str) -> tuple[dict[str, str], str]:
    out = _run([go, "env", "-json", "GOPROXY", "GOFLAGS", "GOVERSION"], cwd=WRAPPER_DIR, env=None)
    current = json.loads(out)
    flags = current.get("GOFLAGS", "").split()
    # -trimpath keeps local paths out of the binaries, so builds are reproducible across
    # checkouts; -mod=readonly makes a go.sum that lacks an entry an error, never an edit.
    flags += [f for f in ("-trimpath", "-mod=readonly") if f not in flags]
    env = {
        **os.environ,
        "GOFLAGS": " ".join(flags),
        "GOPROXY": _registry_only(current.get("GOPROXY", "")),
        # A go.work above the repo would otherwise override the pinned versions.
        "GOWORK": "off",
        # Static binaries that need no C toolchain, as the official releases are.
        "CGO_ENABLED": "0",
    }
    return env, current.get("GOVERSION", "go")


def _registry_only(goproxy: str) -> str:
    # With "direct" in GOPROXY, a module the proxy answers 404 for is fetched from its VCS
    # host. Only the module proxy may be reached here, so a miss must fail instead.
    entries = [e for e in re.split(r"[,|]", goproxy) if e and e != "direct"]
    return ",".join(entries) or "off"


def _run(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> str:
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise _BuildError(f"could not run {cmd[0]}: {exc}") from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise _BuildError(f"`{' '.join(cmd[:3])} ...` failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout


def _go_mod_requires(go_mod: Path) -> dict[str, str]:
    """Module path -> version for every require line of a go.mod (block or single)."""
    try:
        text = go_mod.read_text()
    except FileNotFoundError:
        return {}
    requires: dict[str, str] = {}
    in_block = False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if in_block:
            if line == ")":
                in_block = False
            elif len(parts := line.split()) >= 2:
                requires[parts[0]] = parts[1]
        elif re.fullmatch(r"require\s*\(", line):
            in_block = True
        elif line.startswith("require ") and len(parts := line.split()) >= 3:
            requires[parts[1]] = parts[2]
    return requires


def _go_directive() -> str:
    with contextlib.suppress(OSError):
        match = re.search(r"^go\s+(\S+)", (WRAPPER_DIR / "go.mod").read_text(), re.M)
        if match:
            return match.group(1)
    return "1.26"


# --- shared ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _report(
    layout: Layout,
    way: Way,
    already: bool,
    version: str,
    pulumi: Path,
    files: Sequence[Path],
    started: float,
    notes: Sequence[str],
) -> InstallReport:
    return InstallReport(
        way=way,
        already_installed=already,
        version=version,
        root=pulumi.parent.parent,
        bin_dir=pulumi.parent,
        pulumi=pulumi,
        files=tuple(files),
        size_bytes=sum(f.stat().st_size for f in files if f.exists()),
        seconds=time.monotonic() - started,
        notes=tuple(notes),
    )


def _version_tuple(version: str) -> tuple[int, int, int]:
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version)
    if match is None:
        return (0, 0, 0)
    major, minor, patch = (int(g) for g in match.groups())
    return (major, minor, patch)


def _fmt(version: tuple[int, int, int]) -> str:
    return ".".join(str(p) for p in version)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--home", type=Path, help=f"stageline home (default {DEFAULT_HOME})")
    parser.add_argument("--force", action="store_true", help="install afresh")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        report = install(args.home, force=args.force)
    except EngineNotAvailableError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
