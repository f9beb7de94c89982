"""The engine built from Go modules, pinned by the wrapper modules in ``engine/``.

One build per content hash, cached outside any checkout and shared by every clone on the
machine: a fresh clone links the cached binaries in seconds instead of building them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from stageline.engine import launcher
from stageline.engine.gomod import PKG_MODULE, SDK_MODULE, GoModError, read_go_mod
from stageline.engine.layout import WRAPPER_DIR

log = logging.getLogger(__name__)

VERSION_SYMBOL = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
# Part of the build key: bump it when the build steps below change, so that a warm install
# made by older steps is rebuilt rather than reported as current.
RECIPE = "2"
LANGUAGE_HOST = "pulumi-language-python"
# Where built engines are cached by content hash (default /var/cache/stageline, else the
# user's cache folder).
CACHE_ENV = "STAGELINE_CACHE_DIR"
_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class GoTarget:
    """One binary built from a Go module required by a wrapper go.mod."""

    binary: str
    package: str
    module: str
    module_dir: str = "."
    """Relative to WRAPPER_DIR: a binary whose dependencies clash with pkg/v3 gets its own."""
    required: bool = False


TARGETS: tuple[GoTarget, ...] = (
    GoTarget("pulumi", f"{PKG_MODULE}/cmd/pulumi", PKG_MODULE, required=True),
    # The language host's own module is not served here (see engine/go.mod), so it is built
    # from sdk/v3 at the last release that still carried it; see language-python/tools.go.
    GoTarget(
        LANGUAGE_HOST,
        f"{SDK_MODULE}/python/cmd/pulumi-language-python",
        SDK_MODULE,
        module_dir="language-python",
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


class BuildError(Exception):
    """The build could not run or failed; the message says which step and why."""


@dataclass(frozen=True)
class Build:
    """A build in the cache: its files relative to the cache folder, and what was left out."""

    cache: Path
    version: str
    """The pulumi release it was built at: the wrapper module's pin."""
    files: tuple[str, ...]
    notes: tuple[str, ...]


def build_key() -> str:
    """The content hash of everything a build depends on: recipe, targets and wrapper modules."""
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


def cached_or_built(key: str, pinned: str | None, fresh: bool = False) -> Build:
    """The build for ``key`` from the cache, building it first when absent (or ``fresh``).

    ``pinned`` is the wrapper module's release, needed only to build: a cached build records
    its own, so a checkout without `go` can still link one. Raises BuildError.
    """
    cache = engine_cache_dir() / key.removeprefix("build:")
    cache.parent.mkdir(parents=True, exist_ok=True)
    # One build per content hash at a time, across processes and checkouts.
    with FileLock(cache.with_name(cache.name + ".lock")):
        found = None if fresh else _cached(cache)
        if found is not None:
            log.info("reusing the engine built in %s", cache)
            return found
        go = shutil.which("go")
        if go is None:
            raise BuildError("no `go` on PATH")
        return _build_into(cache, go, pinned)


def _cached(cache: Path) -> Build | None:
    try:
        manifest = json.loads((cache / _MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    relative = tuple(str(f) for f in manifest.get("files", []))
    if not relative or not all(os.access(cache / f, os.X_OK) for f in relative):
        return None
    notes = tuple(str(n) for n in manifest.get("notes", []))
    return Build(cache, str(manifest.get("version", "")), relative, notes)


def _build_into(cache: Path, go: str, pinned: str | None) -> Build:
    notes: list[str] = []
    groups: dict[str, list[GoTarget]] = {}
    versions: dict[str, str] = {}
    for target in TARGETS:
        try:
            go_mod = read_go_mod(go, WRAPPER_DIR / target.module_dir / "go.mod")
        except GoModError as exc:
            if target.required:
                raise BuildError(str(exc)) from exc
            notes.append(f"{target.binary} not built: {exc}")
            continue
        if target.module in go_mod.requires:
            groups.setdefault(target.module_dir, []).append(target)
            # Each binary is stamped with the sdk/v3 release it was really built from.
            versions[target.module_dir] = go_mod.requires.get(SDK_MODULE, pinned or "")
        elif target.required:
            raise BuildError(f"{go_mod.path} does not require {target.module}")
        else:
            notes.append(
                f"{target.binary} not built: {go_mod.path} does not require {target.module}"
            )
    if pinned is None:  # read with the same `go`; only a missing go.mod leaves it unread
        raise BuildError(f"no pinned release in {WRAPPER_DIR / 'go.mod'}")

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
            # print stack traces. The version is stamped where `pulumi version` reads it.
            ldflags = f"-s -w -X {VERSION_SYMBOL}={versions[module_dir]}"
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
                    raise BuildError(f"{SDK_MODULE} {pinned} has no {relative}")
                notes.append(f"{source.name} not installed: {SDK_MODULE} {pinned} has none")
                continue
            # Module cache files are read-only; copy the bytes, then make the copy executable.
            shutil.copyfile(source, out / source.name)
        files = _arrange(out, staging / "tree")
        manifest = {"key": cache.name, "version": pinned, "files": files, "notes": notes}
        (staging / "tree" / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        shutil.rmtree(cache, ignore_errors=True)
        # Renamed into place last: an interrupted build never looks cached.
        (staging / "tree").replace(cache)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Build(cache, pinned, tuple(files), tuple(notes))


def _arrange(out: Path, tree: Path) -> list[str]:
    """Move the built files into bin/ and libexec/; pulumi first. Returns their paths."""
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
    return files


def link_tree(source: Path, dest: Path, relative: Sequence[str]) -> list[Path]:
    """Hard-link (or copy, across filesystems) each file of a cached build into ``dest``."""
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
        "GOPROXY": registry_only(current.get("GOPROXY", "")),
        # A go.work above the repo would otherwise override the pinned versions.
        "GOWORK": "off",
        # Static binaries that need no C toolchain, as the official releases are.
        "CGO_ENABLED": "0",
    }
    return env, current.get("GOVERSION", "go")


def registry_only(goproxy: str) -> str:
    """GOPROXY without ``direct``: a module the proxy answers 404 for must fail, not be fetched
    from its VCS host, since only the module proxy may be reached here."""
    entries = [e for e in re.split(r"[,|]", goproxy) if e and e != "direct"]
    return ",".join(entries) or "off"


def _run(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> str:
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise BuildError(f"could not run {cmd[0]}: {exc}") from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise BuildError(f"`{' '.join(cmd[:3])} ...` failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout
