"""Plain `pulumi` per stage: anyone with .stageline/engine/bin on PATH, and no virtualenv on it.

The language host built here ignores `runtime.options.virtualenv` on its own; the launcher
installed in its place passes it on. These runs use a fresh shell environment (no venv on
PATH, no stageline variables) and plain Pulumi commands, as a user would type them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from stageline.engine import InstallReport, install

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture(scope="module")
def engine_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Its own home: the layout under test is the one this checkout installs, reused from the
    # machine's build cache when it is warm. A pulumi already on the caller's PATH would be
    # taken as it is, without the launcher under test, so the folders holding one are left out.
    path = os.pathsep.join(
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if not (Path(folder) / "pulumi").exists()
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", path)
        report: InstallReport = install(home=tmp_path_factory.mktemp("stageline-home"))
    assert report.way != "path", report
    return report.bin_dir


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project as a user has it: sources, stack files, the example app, .venv,
    base image."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, root)
    ignore = shutil.ignore_patterns("__pycache__", "Pulumi.ci-*.yaml")
    for name in ("stacks", "components", "stageline", "examples"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    for stack_file in (root / "stacks").glob("Pulumi.*.yaml"):
        lines = stack_file.read_text().splitlines(keepends=True)
        stack_file.write_text("".join(x for x in lines if not x.startswith("encryptionsalt:")))
    (root / ".venv").symlink_to((REPO / ".venv").resolve())
    (root / ".stageline").mkdir()
    (root / ".stageline" / "images").symlink_to((REPO / ".stageline" / "images").resolve())
    return root


def fresh_shell(engine_bin: Path, tmp_path: Path) -> dict[str, str]:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return {
        "HOME": str(tmp_path),
        "PATH": f"{engine_bin}:{SYSTEM_PATH}",
        "PULUMI_BACKEND_URL": state.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "plain-pulumi",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }


def pulumi(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pulumi", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.integration
def test_plain_pulumi_preview_of_local_runs_the_program(
    engine_bin: Path, project: Path, tmp_path: Path
) -> None:
    env = fresh_shell(engine_bin, tmp_path)
    assert not any(".venv" in p for p in env["PATH"].split(os.pathsep))

    init = pulumi(env, project, "stack", "init", "local")
    assert init.returncode == 0, init.stderr
    preview = pulumi(env, project, "preview", "-s", "local")

    output = preview.stdout + preview.stderr
    assert preview.returncode == 0, output
    assert "No module named" not in output
    # The program ran to the end: its contract outputs and the libvirt resources are planned.
    assert 'target       : "libvirt"' in output, output
    # The dynamic providers ran too (their Check), on the same virtualenv.
    assert "pulumi-python:dynamic/libvirt:Domain" in output, output


@pytest.mark.integration
def test_launcher_reads_a_quoted_virtualenv_with_a_comment(
    engine_bin: Path, tmp_path: Path
) -> None:
    root = tmp_path / "tiny"
    root.mkdir()
    (root / "Pulumi.yaml").write_text(
        "name: tiny\nruntime:\n  name: python\n  options:\n"
        '    virtualenv: "env"   # the project\'s own\n'
    )
    (root / "__main__.py").write_text(
        "import sys\nimport pulumi\npulumi.export('python', sys.prefix)\n"
    )
    (root / "env").symlink_to((REPO / ".venv").resolve())
    env = fresh_shell(engine_bin, tmp_path)

    assert pulumi(env, root, "stack", "init", "dev").returncode == 0
    up = pulumi(env, root, "up", "-s", "dev", "--yes", "--skip-preview")
    assert up.returncode == 0, up.stdout + up.stderr
    out = pulumi(env, root, "stack", "output", "python", "-s", "dev")
    assert Path(out.stdout.strip()).resolve() == (REPO / ".venv").resolve()
