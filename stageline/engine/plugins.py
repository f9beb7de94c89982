"""Provider plugins: the exact versions the installed SDKs need, installed where they can be.

A cloud stage needs its provider's plugin (``pulumi-resource-<provider>`` at the version that
the installed SDK package was generated for). Where the download site answers,
``stageline engine install`` installs those versions ahead of time and the engine may acquire
any other plugin it needs. Where nothing can be downloaded, automatic acquisition is turned
off so that a missing plugin fails at once, with a message that says how to get it, instead
of hanging on a download that cannot succeed.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from stageline.engine.probe import DOWNLOAD_HOST


@dataclass(frozen=True, order=True)
class PluginSpec:
    """One plugin at one exact version, as ``pulumi plugin install`` takes it."""

    kind: str
    name: str
    version: str

    @property
    def install_args(self) -> tuple[str, ...]:
        return ("plugin", "install", self.kind, self.name, self.version)

    @property
    def folder(self) -> str:
        """Its folder under PULUMI_HOME/plugins once installed."""
        return f"{self.kind}-{self.name}-v{self.version}"

    def __str__(self) -> str:
        return f"{self.kind} {self.name} v{self.version}"


def sdk_plugins(distributions: Iterable[metadata.Distribution] | None = None) -> list[PluginSpec]:
    """The plugins the installed provider SDKs were generated for, read from pulumi-plugin.json.

    Read from package metadata rather than by importing the SDKs: importing one takes seconds.
    """
    found: set[PluginSpec] = set()
    for dist in metadata.distributions() if distributions is None else distributions:
        for file in dist.files or ():
            # Only the package's own file: vendored copies deeper down belong to nobody.
            if file.name != "pulumi-plugin.json" or len(file.parts) != 2:
                continue
            with contextlib.suppress(OSError, ValueError):
                spec = json.loads(Path(str(dist.locate_file(file))).read_text())
                if spec.get("resource") and spec.get("name") and spec.get("version"):
                    found.add(
                        PluginSpec("resource", str(spec["name"]), str(spec["version"]).lstrip("v"))
                    )
    return sorted(found)


Runner = Callable[[list[str], Mapping[str, str]], subprocess.CompletedProcess[str]]


def _run(argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False)


@dataclass(frozen=True)
class PluginReport:
    installed: tuple[PluginSpec, ...]
    present: tuple[PluginSpec, ...]
    notes: tuple[str, ...]


def install_plugins(
    pulumi: Path,
    pulumi_home: Path,
    env: Mapping[str, str],
    wanted: Iterable[PluginSpec],
    online: bool,
    run: Runner = _run,
) -> PluginReport:
    """Install each wanted plugin that PULUMI_HOME lacks, where downloads are possible."""
    present = tuple(p for p in wanted if (pulumi_home / "plugins" / p.folder).is_dir())
    missing = [p for p in wanted if p not in present]
    if not missing:
        return PluginReport((), present, ())
    if not online:
        names = ", ".join(str(p) for p in missing)
        return PluginReport(
            (),
            present,
            (
                f"provider plugins not installed ({names}): {DOWNLOAD_HOST} is not reachable. "
                "Cloud stages need them: run `stageline engine install` where it is; "
                "`stageline plan STAGE` works offline",
            ),
        )
    installed: list[PluginSpec] = []
    notes: list[str] = []
    for plugin in missing:
        proc = run([str(pulumi), *plugin.install_args], {**env, "PULUMI_HOME": str(pulumi_home)})
        if proc.returncode == 0:
            installed.append(plugin)
        else:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            notes.append(f"{plugin} not installed: {last}")
    return PluginReport(tuple(installed), present, tuple(notes))


def missing_plugin_message(stage: str, kind: str, name: str, version: str | None) -> str:
    """What a user reads when the engine lacks a plugin a stage needs."""
    at = f" v{version}" if version else ""
    command = f"pulumi plugin install {kind} {name}{' ' + version if version else ''}"
    return (
        f"stage {stage!r} needs the Pulumi {kind} plugin {name}{at}, which is not installed: "
        f"run `stageline engine install` on a machine that can reach {DOWNLOAD_HOST} (or "
        f"`stageline pulumi {command.removeprefix('pulumi ')}`); without it, "
        f"`stageline plan {stage}` previews the stage offline."
    )
