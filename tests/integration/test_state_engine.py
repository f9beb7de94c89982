"""Secrets, locking and idempotence on the real engine with a file backend."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import Result

from tests.integration.conftest import PASSPHRASE, Run, wait_for_lock
from tests.integration.environment import make_environment

pytestmark = pytest.mark.integration

SECRET = "pa55-never-in-plain-text"


def set_secret(project_dir: Path, run: Run) -> None:
    # Through Pulumi itself, as a user would: `pulumi config set --secret`.
    from stageline.cli.context import CliContext
    from stageline.workspace import Project

    obj = CliContext(Project(project_dir, make_environment()))
    stack = obj.stack("dev")
    from pulumi import automation as auto

    stack.set_config("stageline:dbPassword", auto.ConfigValue(SECRET, secret=True))


def test_a_secret_never_appears_in_plain_text(run: Run, project_dir: Path, state_dir: Path) -> None:
    set_secret(project_dir, run)
    assert SECRET not in (project_dir / "stacks/Pulumi.dev.yaml").read_text()
    up = run("up", "dev")
    assert up.exit_code == 0, up.output
    assert SECRET not in up.output
    masked = run("outputs", "dev")
    assert SECRET not in masked.output
    assert json.loads(masked.output)["database"]["password"] == "[secret]"
    for path in state_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"{path} holds the secret"
    shown = run("outputs", "dev", "--show-secrets")
    assert json.loads(shown.output)["database"]["password"] == SECRET
    assert PASSPHRASE not in up.output


def test_plain_text_secret_is_refused_before_anything(run: Run, project_dir: Path) -> None:
    from tests.conftest import edit_stack_file

    edit_stack_file(project_dir / "stacks/Pulumi.dev.yaml", {"dbPassword": SECRET})
    result = run("up", "dev")
    assert result.exit_code == 1
    assert "stageline:dbPassword" in result.output and "--secret" in result.output
    assert SECRET not in result.output


def test_concurrent_updates_lock_and_state_stays_intact(run: Run, state_dir: Path) -> None:
    assert run("up", "dev").exit_code == 0
    results: dict[str, Result] = {}
    slow = make_environment(delay_seconds=20)
    first = threading.Thread(
        target=lambda: results.setdefault("first", run("up", "dev", environment=slow))
    )
    first.start()
    locks = state_dir / ".pulumi" / "locks"
    wait_for_lock(
        lambda: any(path.is_file() for path in locks.rglob("*")),
        first.is_alive,
        lambda: results.get("first"),
    )
    results["second"] = run("up", "dev")
    first.join()
    assert results["first"].exit_code == 0, results["first"].output
    second = results["second"]
    assert second.exit_code == 1, second.output
    assert "stage 'dev' is locked by another update" in second.output
    assert "stageline cancel dev" in second.output
    again = run("up", "dev")
    assert again.exit_code == 0, again.output
    assert "dev: 3 same" in again.output, again.output


def test_a_second_up_reports_no_changes(run: Run) -> None:
    first = run("up", "dev")
    assert first.exit_code == 0, first.output
    assert "create" in first.output
    second = run("up", "dev")
    assert second.exit_code == 0, second.output
    assert "create" not in second.output and "update" not in second.output
    assert "dev: 3 same" in second.output, second.output
    preview = run("preview", "dev")
    assert "would 3 same" in preview.output, preview.output
