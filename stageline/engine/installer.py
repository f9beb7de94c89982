"""Install the Pulumi engine into a git-ignored folder, offline if need be.

The ways, in order:

1. stageline's own earlier install, when its stamp still matches the wrapper modules;
2. a ``pulumi`` already on PATH that is new enough;
3. the official download (``PulumiCommand.install``), only where its site answers;
4. a build from Go modules, pinned by ``engine/go.mod`` and ``engine/go.sum`` (``gobuild``).

``stageline engine install`` runs ``install`` and prints what was done.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from filelock import FileLock
from packaging.version import InvalidVersion, Version

from stageline.engine import gobuild
from stageline.engine.gomod import GoModError, pinned_version, read_go_mod
from stageline.engine.layout import WRAPPER_DIR, Layout, engine_env
from stageline.engine.plugins import PluginReport, Runner, install_plugins, sdk_plugins
from stageline.engine.probe import DOWNLOAD_HOST, OFFLINE_ENV, Probe, can_download

log = logging.getLogger(__name__)

# Older CLIs lack engine features the Automation API of the pinned SDK relies on.
MIN_PATH_VERSION = Version("3.200.0")

Way = Literal["path", "download", "build"]


class EngineNotAvailableError(RuntimeError):
    """No way of installing the engine worked; the message says what is missing."""


@dataclass(frozen=True)
class InstallReport:
    """What ``install`` did, for people and for callers that need the paths."""

    way: Way
    already_installed: bool
    version: str
    root: Path
    """The folder that holds bin/pulumi: what PulumiCommand(root=...) expects."""
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


@dataclass
class _Attempts:
    """Why each way was passed over, for the notes and for the final error."""

    reasons: list[str] = field(default_factory=list)

    def add(self, way: str, reason: str) -> None:
        log.info("%s: %s", way, reason)
        self.reasons.append(f"{way}: {reason}")


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
    layout.record_online(online)
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


def current_or_install(home: Path | None = None) -> InstallReport:
    """The engine a command drives: the current install as its stamp records it, or install().

    The stamp was written by an install that checked the wrapper modules and the plugins, and
    recorded whether plugins can be downloaded (which engine_env passes on to the engine). So a
    command that finds it current runs no `pulumi version`, no `go`, no plugin scan and no probe.
    """
    report = _current_install(Layout.for_home(home), time.monotonic())
    return report if report is not None else install(home)


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
    attempts = _Attempts()

    # Serialises concurrent installs (parallel test workers) on the same folder.
    with FileLock(layout.root / ".install.lock"):
        if not force:
            report = _current_install(layout, started)
            if report is not None:
                return report
            found = _path_pulumi(layout.bin_dir, attempts)
            if found is not None:
                exe, version = found
                return _report("path", False, version, exe, [exe], started, [])

        pinned, go_line = _read_pin()
        online = not os.environ.get(OFFLINE_ENV) and can_download(probe)
        if _download(layout, pinned, attempts, online):
            assert pinned is not None  # _download needs it
            files = [layout.bin_dir / "pulumi"]
            notes = list(attempts.reasons)
            _write_stamp(layout, "download", _download_key(), pinned, files, notes)
            return _report("download", False, pinned, files[0], files, started, notes)

        key = gobuild.build_key()  # before building: a go.mod edited meanwhile leaves it stale
        try:
            build = gobuild.cached_or_built(key, pinned, fresh=force)
        except gobuild.BuildError as exc:
            attempts.add("build", str(exc))
        else:
            files = gobuild.link_tree(build.cache, layout.root, build.files)
            _write_stamp(layout, "build", key, build.version, files, list(build.notes))
            notes = [*attempts.reasons, *build.notes, f"build cached in {build.cache}"]
            return _report("build", False, build.version, files[0], files, started, notes)

    raise EngineNotAvailableError(
        "No Pulumi engine could be installed:\n"
        + "\n".join(f"  - {r}" for r in attempts.reasons)
        + f"\nTo fix: install Go >= {go_line} (with the Go module proxy reachable) and run "
        + f"`stageline engine install`, or put a pulumi CLI >= {MIN_PATH_VERSION} on PATH."
    )


def _read_pin() -> tuple[str | None, str]:
    """The pinned release and the `go` line of engine/go.mod, read with `go` where there is one.

    Without `go` neither is known: the download is then passed over, and a cached build still
    links (it records its own release).
    """
    fallback = f"the `go` line of {WRAPPER_DIR / 'go.mod'}"
    go = shutil.which("go")
    if go is None:
        return None, fallback
    try:
        go_mod = read_go_mod(go, WRAPPER_DIR / "go.mod")
        return pinned_version(go_mod), go_mod.go or fallback
    except GoModError as exc:
        raise EngineNotAvailableError(str(exc)) from exc


# --- way 1: an earlier install of stageline's own ---------------------------------------------


def _current_install(layout: Layout, started: float) -> InstallReport | None:
    try:
        stamp = json.loads(layout.stamp.read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("key") not in {gobuild.build_key(), _download_key()}:
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
    return _report(cast(Way, way), True, version, files[0], files, started, notes)


def _download_key() -> str:
    # The pin's whole file rather than its parsed version: checking a stamp needs no `go`.
    try:
        pin = hashlib.sha256((WRAPPER_DIR / "go.mod").read_bytes()).hexdigest()
    except OSError:
        pin = "none"
    return f"download:{pin}"


def _write_stamp(
    layout: Layout, way: Way, key: str, version: str, files: list[Path], notes: list[str]
) -> None:
    stamp = {
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


# --- way 2: PATH -----------------------------------------------------------------------------


def _path_pulumi(exclude: Path, attempts: _Attempts) -> tuple[Path, str] | None:
    """The first pulumi on PATH outside our bin dir, when it runs and is new enough."""
    # Our own bin dir is on PATH whenever engine_env was applied; it is not "ambient" pulumi.
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not _same(d, exclude)]
    found = shutil.which("pulumi", path=os.pathsep.join(dirs))
    if found is None:
        attempts.add("PATH", "no pulumi on PATH")
        return None
    exe = Path(found)
    try:
        version = subprocess.run(
            [str(exe), "version"],
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        attempts.add("PATH", f"`{exe} version` failed")
        return None
    try:
        parsed = Version(version)
    except InvalidVersion:
        attempts.add("PATH", f"{exe} reports version {version!r}, which is not a release")
        return None
    if parsed < MIN_PATH_VERSION:
        attempts.add("PATH", f"{exe} is {version}, older than {MIN_PATH_VERSION}")
        return None
    return exe, version


def _same(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return False


# --- way 3: the official download ------------------------------------------------------------


def _download(layout: Layout, pinned: str | None, attempts: _Attempts, online: bool) -> bool:
    if os.environ.get(OFFLINE_ENV):
        attempts.add("download", f"skipped ({OFFLINE_ENV} is set)")
        return False
    if not online:
        attempts.add("download", f"{DOWNLOAD_HOST} is not reachable")
        return False
    if pinned is None:
        attempts.add("download", f"no `go` on PATH to read the pinned release in {WRAPPER_DIR}")
        return False
    from pulumi.automation import PulumiCommand
    from semver import VersionInfo  # the SDK's own version type, which install() takes

    try:
        PulumiCommand.install(
            root=str(layout.root), version=VersionInfo.parse(pinned.removeprefix("v"))
        )
    except Exception as exc:  # the SDK raises bare errors from urllib and subprocess
        attempts.add("download", f"PulumiCommand.install failed: {exc}")
        return False
    return (layout.bin_dir / "pulumi").exists()


def _report(
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
