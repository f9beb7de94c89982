"""The engine bootstrap: a real install (built offline where need be) and its errors."""

from __future__ import annotations

import filecmp
import os
import subprocess
from pathlib import Path

import pytest

from stageline.engine import EngineNotAvailableError, InstallReport, engine_env, install
from stageline.engine.gobuild import CACHE_ENV
from stageline.engine.gomod import pinned_version
from stageline.engine.probe import OFFLINE_ENV


@pytest.fixture(scope="module")
def report(engine: InstallReport) -> InstallReport:
    return engine


def _path_without_pulumi() -> str:
    """PATH less every folder holding a `pulumi`: what a machine without one looks like."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and not (Path(d) / "pulumi").exists())


@pytest.fixture(scope="module")
def own_install(engine: InstallReport, tmp_path_factory: pytest.TempPathFactory) -> InstallReport:
    """stageline's own install into a fresh home, whatever `pulumi` the machine has on PATH.

    The tests of the installed layout use it, so that they never skip because the shared
    engine came from PATH. It links the content-addressed build cache that setup filled.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", _path_without_pulumi())
        patch.setenv(OFFLINE_ENV, "1")
        return install(home=tmp_path_factory.mktemp("own") / "home")


def _run_env() -> dict[str, str]:
    return {**os.environ, **engine_env()}


@pytest.mark.integration
def test_pulumi_version_is_the_pinned_one(report: InstallReport) -> None:
    out = subprocess.run(
        [str(report.pulumi), "version"],
        env=_run_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    assert out == report.version
    if report.way != "path":
        assert out == pinned_version() == "v3.274.1"


@pytest.mark.integration
def test_a_second_install_finds_the_first(report: InstallReport) -> None:
    # How long it takes is measured by benchmarks/engine_benchmark.py, not asserted here.
    again = install()
    assert again.already_installed or again.way == "path"
    assert again.pulumi == report.pulumi


@pytest.mark.integration
def test_python_scripts_sit_beside_pulumi_and_are_executable(own_install: InstallReport) -> None:
    report = own_install
    assert report.way == "build", report
    for name in ("pulumi-language-python-exec", "pulumi-resource-pulumi-python"):
        script = report.bin_dir / name
        assert script.is_file(), f"{script} is missing"
        assert os.access(script, os.X_OK), f"{script} is not executable"


@pytest.mark.integration
def test_language_host_sits_beside_its_exec_script(own_install: InstallReport) -> None:
    report = own_install
    assert report.way == "build", report
    host = report.bin_dir / "pulumi-language-python"
    exec_script = host.with_name("pulumi-language-python-exec")
    for path in (host, exec_script):
        assert path.is_file(), f"{path} is missing"
        assert os.access(path, os.X_OK), f"{path} is not executable"


@pytest.mark.integration
def test_inline_program_runs_up_on_the_engine(
    report: InstallReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pulumi
    from pulumi import automation as auto

    for key, value in engine_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    backend = tmp_path / "state"
    backend.mkdir()

    def program() -> None:
        pulumi.export("greeting", "hello from the offline engine")

    stack = auto.create_or_select_stack(
        stack_name="dev",
        project_name="enginecheck",
        program=program,
        opts=auto.LocalWorkspaceOptions(
            work_dir=str(tmp_path),
            pulumi_command=auto.PulumiCommand(root=str(report.root)),
            project_settings=auto.ProjectSettings(
                name="enginecheck",
                runtime="python",
                backend=auto.ProjectBackend(url=backend.as_uri()),
            ),
        ),
    )
    result = stack.up()
    assert result.outputs["greeting"].value == "hello from the offline engine"


def test_missing_go_and_pulumi_gives_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    # No network probe in a unit test, and no build cached by an earlier install.
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))

    with pytest.raises(EngineNotAvailableError) as caught:
        install(home=tmp_path / "home")

    message = str(caught.value)
    assert "no pulumi on PATH" in message
    assert "no `go` on PATH" in message
    assert "install Go >=" in message


def _fake_pulumi(folder: Path, version: str) -> Path:
    folder.mkdir()
    exe = folder / "pulumi"
    exe.write_text(f"#!/bin/sh\necho {version}\n")
    exe.chmod(0o755)
    return exe


def test_a_new_enough_pulumi_on_path_is_used_as_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = _fake_pulumi(tmp_path / "bin", "v3.250.0")
    monkeypatch.setenv("PATH", str(exe.parent))
    monkeypatch.setenv(OFFLINE_ENV, "1")

    found = install(home=tmp_path / "home")

    assert (found.way, found.version, found.pulumi) == ("path", "v3.250.0", exe)
    assert not found.already_installed


def test_an_old_pulumi_on_path_is_named_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = _fake_pulumi(tmp_path / "bin", "v3.150.0")
    monkeypatch.setenv("PATH", str(exe.parent))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))

    with pytest.raises(EngineNotAvailableError, match=r"v3\.150\.0, older than 3\.200\.0"):
        install(home=tmp_path / "home")


@pytest.mark.integration
def test_install_fetches_the_sdks_plugins_only_where_it_can_download(
    engine: InstallReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess as sp
    from collections.abc import Mapping
    from importlib.metadata import version

    monkeypatch.setenv("PATH", _path_without_pulumi())
    monkeypatch.delenv(OFFLINE_ENV, raising=False)
    home = tmp_path / "home"
    calls: list[list[str]] = []

    def plugin_install(argv: list[str], env: Mapping[str, str]) -> sp.CompletedProcess[str]:
        assert env["PULUMI_HOME"] == str(home / "pulumi-home")
        calls.append(argv[1:])
        return sp.CompletedProcess(argv, 0, "", "")

    # Offline: the engine is installed (from the build cache), no plugin is fetched.
    offline = install(home=home, probe=lambda: False, run_plugin=plugin_install)
    assert calls == []
    assert any("get.pulumi.com is not reachable" in n for n in offline.notes), offline.notes

    # Online: the same install, and each SDK's plugin at its exact version.
    online = install(home=home, probe=lambda: True, run_plugin=plugin_install)
    assert online.already_installed
    assert ["plugin", "install", "resource", "aws", version("pulumi-aws")] in calls
    assert ["plugin", "install", "resource", "gcp", version("pulumi-gcp")] in calls
    wanted = ["plugin", "install", "resource", "azure-native", version("pulumi-azure-native")]
    assert wanted in calls


@pytest.mark.integration
def test_a_new_checkout_links_the_cached_build_without_go(
    own_install: InstallReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert own_install.way == "build", own_install
    empty = tmp_path / "no-go"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv(OFFLINE_ENV, "1")

    other = install(home=tmp_path / "home")

    assert other.way == "build" and not other.already_installed
    assert any(n.startswith("build cached in ") for n in other.notes), other.notes
    cached = Path(next(n for n in other.notes if n.startswith("build cached in "))[16:])
    # Outside the checkout, and the same bytes: linked (or copied across filesystems).
    assert not cached.is_relative_to(Path(__file__).resolve().parents[2])
    built = cached / "bin" / "pulumi"
    assert os.path.samefile(other.pulumi, built) or filecmp.cmp(other.pulumi, built, False)
    assert other.seconds < 30


def test_a_pulumi_on_path_whose_version_is_no_release_is_named_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = _fake_pulumi(tmp_path / "bin", "dev-build")
    monkeypatch.setenv("PATH", str(exe.parent))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))

    with pytest.raises(EngineNotAvailableError, match=r"reports version 'dev-build'"):
        install(home=tmp_path / "home")


def test_a_prerelease_of_the_minimum_is_older_than_the_minimum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Compared as versions, not as their first three numbers: 3.200.0-rc.1 precedes 3.200.0.
    exe = _fake_pulumi(tmp_path / "bin", "v3.200.0-rc.1")
    monkeypatch.setenv("PATH", str(exe.parent))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))

    with pytest.raises(EngineNotAvailableError, match=r"v3\.200\.0-rc\.1, older than 3\.200\.0"):
        install(home=tmp_path / "home")
