"""The wrapper modules' go.mod files, read by `go mod edit -json` rather than by hand."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stageline.engine.layout import WRAPPER_DIR

PKG_MODULE = "github.com/pulumi/pulumi/pkg/v3"
SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3"


class GoModError(Exception):
    """A go.mod that is missing, unreadable by `go`, or that pins the engine inconsistently."""


@dataclass(frozen=True)
class GoMod:
    """What the bootstrap needs from one go.mod."""

    path: Path
    go: str
    """The `go` directive: the oldest toolchain that builds the module."""
    requires: Mapping[str, str]
    """Module path -> version, direct and indirect requirements alike."""


def read_go_mod(go: str, path: Path) -> GoMod:
    """Parse ``path`` with ``go mod edit -json``; raises GoModError saying what went wrong."""
    if not path.is_file():
        raise GoModError(f"{path} is missing: run from a stageline checkout, which pins it there")
    try:
        proc = subprocess.run(
            [go, "mod", "edit", "-json", str(path)],
            cwd=path.parent,
            # Reading a go.mod needs no newer toolchain: never let its `go` line start a download.
            env={**os.environ, "GOTOOLCHAIN": "local", "GOWORK": "off"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GoModError(f"could not run `{go} mod edit -json {path}`: {exc}") from exc
    if proc.returncode != 0:
        raise GoModError(f"`go mod edit -json {path}` failed: {proc.stderr.strip()}")
    data = json.loads(proc.stdout)
    requires = {r["Path"]: r["Version"] for r in data.get("Require") or ()}
    return GoMod(path, str(data.get("Go", "")), requires)


def pinned_version(go_mod: GoMod | None = None) -> str:
    """The pulumi release the wrapper module pins, e.g. ``v3.274.1``.

    Without ``go_mod``, engine/go.mod is read with the `go` on PATH.
    """
    if go_mod is None:
        go = shutil.which("go")
        if go is None:
            raise GoModError(f"no `go` on PATH to read {WRAPPER_DIR / 'go.mod'}")
        go_mod = read_go_mod(go, WRAPPER_DIR / "go.mod")
    pkg, sdk = go_mod.requires.get(PKG_MODULE), go_mod.requires.get(SDK_MODULE)
    if pkg is None or pkg != sdk:
        raise GoModError(
            f"{go_mod.path} must require {PKG_MODULE} and {SDK_MODULE} at one "
            f"version (found {pkg} and {sdk})"
        )
    return pkg
