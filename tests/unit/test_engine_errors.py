"""Engine failures become one message that says what failed and what to run.

The CommandErrors are rebuilt from real engine output (tests/unit/engine_output/*.json, made
by `python -m tests.unit.engine_output.capture`), so the rules are tested against what the
engine really prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from stageline.cli.context import engine_errors, summarize_command_error

CAPTURED = Path(__file__).parent / "engine_output"


def captured(name: str) -> auto.CommandError:
    record = json.loads((CAPTURED / f"{name}.json").read_text())
    return auto.CommandError(CommandResult(record["stdout"], record["stderr"], record["code"]))


def message(name: str, stage: str = "local") -> str:
    with pytest.raises(click.ClickException) as caught, engine_errors(stage):
        raise captured(name)
    return caught.value.message


@pytest.mark.parametrize(
    "name",
    ["state_missing", "wrong_passphrase", "missing_plugin", "program_error", "missing_upstream"],
)
def test_no_raw_command_error_reaches_the_user(name: str) -> None:
    raw = str(captured(name))
    assert "stdout:" in raw and "code: 1" in raw, "the fixture must hold the raw form"
    text = message(name)
    for frame in ("code: 1", "stdout:", "stderr:", "Resources:", "Duration:"):
        assert frame not in text, f"{name}: {frame!r} leaked into {text!r}"


def test_missing_state_folder_says_which_folder_and_what_to_run() -> None:
    record = json.loads((CAPTURED / "state_missing.json").read_text())
    folder = record["stderr"].rsplit("stat ", 1)[1].split(":", 1)[0]
    text = message("state_missing")
    assert f"`mkdir -p {folder}`" in text
    assert "STAGELINE_BACKEND_URL" in text
    assert text.count("\n") == 0


def test_wrong_passphrase_names_the_variable() -> None:
    text = message("wrong_passphrase", stage="dev")
    assert text.startswith("stage 'dev'")
    assert "another passphrase" in text and "PULUMI_CONFIG_PASSPHRASE" in text


def test_missing_plugin_names_plugin_version_install_and_offline_plan() -> None:
    text = message("missing_plugin", stage="dev")
    assert "plugin aws v7.51.1" in text
    assert "`stageline engine install`" in text
    assert "plugin install resource aws 7.51.1" in text
    assert "`stageline plan dev`" in text


def test_program_error_keeps_the_programs_own_fix_once() -> None:
    text = message("program_error", stage="qa")
    assert (
        text == "qa: error: stageline:network.cidr = '10.0.0.0/33' is not a CIDR; fix: use /16-/24"
    )


def test_missing_upstream_says_which_stage_to_bring_up() -> None:
    text = message("missing_upstream", stage="test")
    assert "promotes from 'nowhere'" in text
    assert "`stageline up nowhere`" in text


def test_summary_of_an_error_without_error_lines_drops_the_frame() -> None:
    exc = auto.CommandError(CommandResult("", "panic: boom\ngoroutine 1 [running]:", 2))
    text = summarize_command_error("dev", exc)
    assert text == "dev: panic: boom\ngoroutine 1 [running]:"
