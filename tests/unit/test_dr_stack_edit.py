"""Editing one key of a stack file: comments and every other line kept, or nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stageline.dr.stack_edit import StackEditError, edit_file, edit_text

DR = ("config", "stageline:disasterRecovery")
TEXT = """\
# The DR stage. Keep this comment.
config:
  stageline:stage: prod-dr  # inline comment
  stageline:disasterRecovery:
    # why pilot light: cost
    mode: pilot-light
    role: standby  # set by `stageline dr failover`
    rpoSeconds: 300

  stageline:compute:
    minCount: 3
"""


def test_an_existing_key_changes_in_place_with_its_comment() -> None:
    result = edit_text(TEXT, DR, "role", "active")
    assert result == TEXT.replace("role: standby  #", "role: active  #")


def test_a_missing_key_is_added_at_the_end_of_its_section() -> None:
    text = TEXT.replace("    role: standby  # set by `stageline dr failover`\n", "")
    result = edit_text(text, DR, "role", "active")
    assert result == text.replace(
        "    rpoSeconds: 300\n", "    rpoSeconds: 300\n    role: active\n"
    )
    assert yaml.safe_load(result)["config"]["stageline:compute"] == {"minCount": 3}


def test_a_key_is_removed_and_a_top_level_key_set() -> None:
    result = edit_text(TEXT, DR, "rpoSeconds", None)
    result = edit_text(result, ("config",), "stageline:stage", "prod-dr-drill-1a2b")
    config = yaml.safe_load(result)["config"]
    assert "rpoSeconds" not in config["stageline:disasterRecovery"]
    assert config["stageline:stage"] == "prod-dr-drill-1a2b"
    assert "  stageline:stage: prod-dr-drill-1a2b  # inline comment\n" in result


def test_setting_what_is_already_there_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod-dr.yaml"
    path.write_text(TEXT)
    assert edit_file(path, DR, "role", "standby") is False
    assert edit_file(path, DR, "role", "active") is True
    assert edit_file(path, DR, "role", "active") is False


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("config:\n  stageline:disasterRecovery: {mode: pilot-light}\n", "written inline"),
        ("config:\n  stageline:stage: prod-dr\n", "no `stageline:disasterRecovery:` section"),
    ],
)
def test_a_layout_it_cannot_edit_safely_is_refused(text: str, problem: str) -> None:
    with pytest.raises(StackEditError, match=problem):
        edit_text(text, DR, "role", "active")
