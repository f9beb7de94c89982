"""Provider plugins: which versions, and whether to download them (the probe forced both ways).

No test here downloads anything: the probe and `pulumi plugin install` are injected.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path

from stageline.engine.layout import Layout, engine_env
from stageline.engine.plugins import PluginSpec, install_plugins, sdk_plugins
from stageline.engine.probe import OFFLINE_ENV, can_download

ACQUISITION = "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"


class Recorder:
    """Stands in for `pulumi plugin install`: records each call, answers with `code`."""

    def __init__(self, code: int = 0) -> None:
        self.calls: list[tuple[list[str], dict[str, str]]] = []
        self.code = code

    def __call__(self, argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        self.calls.append((argv, dict(env)))
        return subprocess.CompletedProcess(argv, self.code, "", "error: 404 not found\n")


def test_versions_are_the_installed_sdks_own() -> None:
    plugins = {p.name: p for p in sdk_plugins()}
    # The distributions' versions, read independently of pulumi-plugin.json.
    for dist, name in [("pulumi-aws", "aws"), ("pulumi-gcp", "gcp"), ("pulumi-random", "random")]:
        assert plugins[name] == PluginSpec("resource", name, version(dist))
    assert plugins["azure-native"].version == version("pulumi-azure-native")


def test_probe_reachable_leaves_acquisition_on() -> None:
    assert can_download(lambda: True, environ={}) is True
    assert engine_env(online=True)[ACQUISITION] == "false"


def test_probe_unreachable_fails_fast() -> None:
    assert can_download(lambda: False, environ={}) is False
    assert engine_env(online=False)[ACQUISITION] == "true"


def test_forced_offline_never_probes() -> None:
    def probe() -> bool:
        raise AssertionError("probed although offline was forced")

    assert can_download(probe, environ={OFFLINE_ENV: "1"}) is False


def test_commands_follow_what_the_last_install_found(tmp_path: Path) -> None:
    # Commands never probe: they take the decision `stageline engine install` recorded.
    layout = Layout.for_home(tmp_path)
    layout.root.mkdir(parents=True)
    assert engine_env(tmp_path)[ACQUISITION] == "true", "no install recorded: fail fast"
    layout.record_online(True)
    assert engine_env(tmp_path)[ACQUISITION] == "false"
    layout.record_online(False)
    assert engine_env(tmp_path)[ACQUISITION] == "true"


WANTED = [PluginSpec("resource", "aws", "7.51.1"), PluginSpec("resource", "gcp", "10.2.0")]


def test_online_installs_each_missing_exact_version(tmp_path: Path) -> None:
    home = tmp_path / "pulumi-home"
    (home / "plugins" / "resource-gcp-v10.2.0").mkdir(parents=True)
    runner = Recorder()

    report = install_plugins(Path("/x/pulumi"), home, {"A": "1"}, WANTED, True, run=runner)

    assert [argv for argv, _ in runner.calls] == [
        ["/x/pulumi", "plugin", "install", "resource", "aws", "7.51.1"]
    ]
    assert runner.calls[0][1]["PULUMI_HOME"] == str(home)
    assert report.installed == (WANTED[0],) and report.present == (WANTED[1],)
    assert report.notes == ()


def test_online_failure_is_a_note_naming_the_plugin(tmp_path: Path) -> None:
    report = install_plugins(Path("pulumi"), tmp_path, {}, WANTED[:1], True, run=Recorder(1))
    assert report.installed == ()
    assert report.notes == ("resource aws v7.51.1 not installed: error: 404 not found",)


def test_offline_downloads_nothing_and_says_what_is_missing(tmp_path: Path) -> None:
    runner = Recorder()
    report = install_plugins(Path("pulumi"), tmp_path, {}, WANTED, False, run=runner)
    assert runner.calls == []
    (note,) = report.notes
    assert "resource aws v7.51.1" in note and "resource gcp v10.2.0" in note
    assert "`stageline plan STAGE` works offline" in note
