"""Real-engine fixtures: the bootstrapped engine, and a throwaway project and file backend."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from stageline.cli.context import CliContext
from stageline.cli.main import cli
from stageline.engine import EngineNotAvailableError, InstallReport, install
from stageline.program import EnvironmentBuilder
from stageline.workspace import Project
from tests.conftest import REPO_STACKS
from tests.integration.environment import make_environment

PASSPHRASE = "integration-test-passphrase"


@pytest.fixture(scope="session")
def engine() -> InstallReport:
    # .ci/run installs the engine first; here this is the warm check.
    try:
        return install()
    except EngineNotAvailableError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def project_dir(tmp_path: Path, engine: InstallReport, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO_STACKS.parent / "Pulumi.yaml", root)
    shutil.copytree(REPO_STACKS, root / "stacks")
    shutil.copytree(REPO_STACKS.parent / "examples", root / "examples")
    # A developer's own runs may have salted the repo's stack files for another passphrase.
    for stack_file in (root / "stacks").glob("Pulumi.*.yaml"):
        text = stack_file.read_text()
        stack_file.write_text(
            "".join(
                line
                for line in text.splitlines(keepends=True)
                if not line.startswith("encryptionsalt:")
            )
        )
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("STAGELINE_BACKEND_URL", f"file://{state}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    return root


@pytest.fixture
def state_dir(project_dir: Path) -> Path:
    return project_dir.parent / "state"


Run = Callable[..., Result]


@pytest.fixture
def run(project_dir: Path) -> Run:
    """Invoke the CLI on the throwaway project: run("up", "dev", environment=..., input=...)."""

    def invoke(
        *args: str, environment: EnvironmentBuilder | None = None, input: str | None = None
    ) -> Result:
        obj = CliContext(Project(project_dir, environment or make_environment()))
        return CliRunner().invoke(cli, list(args), obj=obj, input=input)

    return invoke


def wait_for_lock(
    locked: Callable[[], bool],
    running: Callable[[], bool],
    report: Callable[[], object],
    timeout: float = 120,
) -> None:
    """Returns once the first of two concurrent updates holds its stack's lock (`locked`), so
    that the second meets it however long the engine takes to start on a busy machine. Fails
    when the first has ended (`running`; `report` says how) or never takes the lock."""
    deadline = time.monotonic() + timeout
    while not locked():
        assert running(), report()
        assert time.monotonic() < deadline, "the first update never took the lock"
        time.sleep(0.2)  # poll interval; the loop checks the lock
