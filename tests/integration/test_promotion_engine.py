"""Promotion across real stacks: StackReference on the real engine and a file backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import edit_stack_file
from tests.integration.conftest import Run
from tests.integration.environment import make_environment

pytestmark = pytest.mark.integration


def outputs_of(run: Run, stage: str) -> dict:
    result = run("outputs", stage)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_downstream_reads_the_upstream_release(run: Run, project_dir: Path) -> None:
    edit_stack_file(project_dir / "stacks/Pulumi.dev.yaml", {"release.appVersion": "4.2.0"})
    assert run("up", "dev").exit_code == 0
    result = run("up", "test")
    assert result.exit_code == 0, result.output
    assert "release 4.2.0" in result.output
    assert outputs_of(run, "test")["release"] == outputs_of(run, "dev")["release"]


def test_a_pin_overrides_the_upstream(run: Run, project_dir: Path) -> None:
    assert run("up", "dev").exit_code == 0
    pin = {"appVersion": "0.9.9", "artifact": "ghcr.io/acme/shop:0.9.9"}
    edit_stack_file(project_dir / "stacks/Pulumi.test.yaml", {"release": pin})
    result = run("up", "test")
    assert result.exit_code == 0, result.output
    assert "pinned" in result.output  # the program's warning streams as progress
    assert outputs_of(run, "test")["release"]["appVersion"] == "0.9.9"
    assert outputs_of(run, "dev")["release"]["appVersion"] == "1.0.0"


def test_a_missing_upstream_stack_fails_clearly(run: Run) -> None:
    result = run("up", "test")
    assert result.exit_code == 1
    assert "stage 'test' promotes from 'dev'" in result.output, result.output
    assert "organization/stageline/dev" in result.output
    assert "stageline up dev" in result.output


def test_an_upstream_without_the_contract_fails_clearly(run: Run) -> None:
    assert run("up", "dev", environment=make_environment(exports=False)).exit_code == 0
    result = run("up", "test")
    assert result.exit_code == 1
    assert "stage 'test' promotes from 'dev'" in result.output, result.output
    assert "no output 'schemaVersion'" in result.output
    assert "stageline up dev" in result.output
