"""Files that cannot be read and keys nobody reads: clean CLI errors, before the engine runs.

Every command that reads stack files is run through click's CLI runner on a copy of the project
whose stack file (or Pulumi.yaml) is broken. The error must name the file, the line and the
column, exit 1, and come before any engine or backend is used.
"""

from __future__ import annotations

import functools
import json
import shutil
import traceback
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from click.testing import CliRunner, Result

from components.errors import ConfigError
from stageline.cli.context import CliContext
from stageline.cli.main import cli
from stageline.config import provider_config_keys, provider_key_issues
from stageline.plan.runner import plan_stage
from stageline.program import deploy
from stageline.stack_files import StackFile, StackFileError, read_stack_file
from stageline.workspace import Project
from tests.conftest import REPO_STACKS
from tests.unit.test_bad_input import STACK_ONLY, run_program_alone

ROOT = REPO_STACKS.parent

# (case, file, text, line, column, problem fragment)
BROKEN_FILES: list[tuple[str, str, str, int, int, str]] = [
    (
        "stack file: bad indentation",
        "stacks/Pulumi.qa.yaml",
        "config:\n  stageline:stage: qa\n  stageline:network:\n    cidr: 10.30.0.0/16\n"
        "     zoneCount: 2\n",
        5,
        15,
        "mapping values are not allowed here",
    ),
    (
        "stack file: unclosed quote",
        "stacks/Pulumi.qa.yaml",
        'config:\n  stageline:stage: qa\n  stageline:region: "us-east-2\n',
        4,
        1,
        "found unexpected end of stream",
    ),
    (
        "stack file: key given twice",
        "stacks/Pulumi.qa.yaml",
        "config:\n  stageline:stage: qa\n  stageline:stage: qb\n",
        3,
        3,
        "'stageline:stage' is given twice",
    ),
    (
        "stack file: a list, not a mapping",
        "stacks/Pulumi.qa.yaml",
        "- stageline:stage: qa\n",
        1,
        1,
        "not a mapping",
    ),
    (
        "Pulumi.yaml: tab indentation",
        "Pulumi.yaml",
        "name: stageline\nruntime:\n\tname: python\n",
        3,
        1,
        "found character '\\t' that cannot start any token",
    ),
]

# Commands that read stack files, each with the arguments to reach that read.
COMMANDS = [
    ["plan", "qa"],
    ["plan", "--all"],
    ["graph"],
    ["up", "qa"],
    ["preview", "qa"],
    ["refresh", "qa"],
    ["outputs", "qa"],
    ["destroy", "qa", "--yes"],
    ["promote", "qa", "--yes"],
    ["cancel", "qa"],
]


class _Untouchable:
    """Stands in for the engine and the backend: the error must come before either is used."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the engine or backend was used ({name}) before the file error")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(REPO_STACKS, tmp_path / "stacks")
    return tmp_path


def _invoke(project: Path, args: list[str]) -> Result:
    untouchable: Any = _Untouchable()
    obj = CliContext(Project(project), _backend=untouchable, _engine=untouchable)
    if args[0] == "plan":
        args = [*args, "--stacks", str(project / "stacks")]
    return CliRunner().invoke(cli, ["--project-dir", str(project), *args], obj=obj)


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
@pytest.mark.parametrize(
    ("file", "text", "line", "column", "problem"),
    [c[1:] for c in BROKEN_FILES],
    ids=[c[0] for c in BROKEN_FILES],
)
def test_a_broken_file_is_a_clean_cli_error(
    project: Path, command: list[str], file: str, text: str, line: int, column: int, problem: str
) -> None:
    (project / file).write_text(text)
    result = _invoke(project, command)
    detail = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
    assert result.exit_code == 1, f"{result.output}\n{detail}"
    assert isinstance(result.exception, SystemExit), detail
    assert "Traceback" not in result.output, result.output
    assert f"{project / file}, line {line}, column {column}" in result.output, result.output
    assert problem in result.output, result.output


def test_the_file_error_is_a_run_error_for_plain_pulumi_up(tmp_path: Path) -> None:
    """`pulumi up` prints a RunError without a Python traceback."""
    path = tmp_path / "Pulumi.qa.yaml"
    path.write_text("config:\n  stageline:stage: [qa\n")
    with pytest.raises(StackFileError) as caught:
        read_stack_file(path)
    assert isinstance(caught.value, pulumi.RunError)
    assert f"{path}, line 3, column 1" in caught.value.message


# --- keys nobody reads -----------------------------------------------------------------------

# (case, stage, raw config entries to add, keys to remove, rendered key, did-you-mean fragment)
UNKNOWN_KEYS: list[tuple[str, str, dict[str, Any], list[str], str, str]] = [
    (
        "misspelt protectData",
        "qa",
        {"stageline:protectDat": True},
        [],
        "stageline:protectDat = True",
        "did you mean stageline:protectData?",
    ),
    (
        "misspelt network section",
        "qa",
        {"stageline:netwrok": {"cidr": "10.30.0.0/16"}},
        ["stageline:network"],
        "stageline:netwrok = {'cidr': '10.30.0.0/16'}",
        "did you mean stageline:network?",
    ),
    (
        "misspelt namespace",
        "qa",
        {"stagline:protectData": True},
        [],
        "stagline:protectData = 'true'",
        "write stageline:protectData",
    ),
    (
        "key without namespace",
        "qa",
        {"protectData": True},
        [],
        "protectData = 'true': a config key without a namespace",
        "write it as stageline:protectData",
    ),
    ("aws region typo", "qa", {"aws:regoin": "us-east-2"}, [], "aws:regoin", "aws:region?"),
    (
        "gcp project typo",
        "sandbox-gcp",
        {"gcp:projet": "acme-shop"},
        [],
        "gcp:projet = 'acme-shop'",
        "did you mean gcp:project?",
    ),
    (
        "azure subscription typo",
        "sandbox-azure",
        {"azure-native:subscriptonId": "0000"},
        [],
        "azure-native:subscriptonId",
        "did you mean azure-native:subscriptionId?",
    ),
]


def _edit_raw(path: Path, add: dict[str, Any], remove: list[str]) -> None:
    data = yaml.safe_load(path.read_text())
    for key in remove:
        data["config"].pop(key)
    data["config"].update(add)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize(
    ("stage", "add", "remove", "rendered", "hint"),
    [c[1:] for c in UNKNOWN_KEYS],
    ids=[c[0] for c in UNKNOWN_KEYS],
)
def test_an_unknown_key_is_an_error_with_a_did_you_mean(
    stacks_copy: Path, stage: str, add: dict, remove: list[str], rendered: str, hint: str
) -> None:
    _edit_raw(stacks_copy / f"Pulumi.{stage}.yaml", add, remove)
    plan = run_program_alone(stacks_copy, stage)
    assert isinstance(plan.error, ConfigError), f"expected a ConfigError, got {plan.error!r}"
    message = str(plan.error)
    assert rendered in message, message
    assert hint in message, message
    assert [r.type for r in plan.resources] == STACK_ONLY, [r.urn for r in plan.resources]


@pytest.mark.parametrize(
    "entry",
    [
        {"aws:region": "us-east-2"},
        {"aws:skipCredentialsValidation": "true"},
        {"aws:myOwnKey": "x"},
        {"pulumi:template": "python"},
        {"random:whatever": "1"},
    ],
    ids=["known key", "another known key", "no close match", "engine key", "no such check"],
)
def test_known_or_unrelated_provider_keys_pass(entry: dict[str, str]) -> None:
    assert provider_key_issues(entry) == []


def test_provider_keys_come_from_the_installed_sdks() -> None:
    aws = provider_config_keys("aws")
    gcp = provider_config_keys("gcp")
    azure = provider_config_keys("azure-native")
    assert aws and gcp and azure
    assert {"region", "profile", "skipCredentialsValidation", "defaultTags"} <= aws
    assert {"project", "region", "zone", "credentials"} <= gcp
    assert {"location", "subscriptionId", "tenantId"} <= azure
    assert "sqlCustomEndpoint" in gcp and len(gcp) > 100
    assert provider_config_keys("no-such-provider") is None


def test_the_real_program_sees_keys_from_the_engine_environment(
    monkeypatch: pytest.MonkeyPatch, stacks_copy: Path
) -> None:
    """A program the language host starts gets its config in PULUMI_CONFIG, not in the runtime:
    unknown keys given that way must be reported too."""
    stack = read_stack_file(stacks_copy / "Pulumi.qa.yaml")
    config, _ = stack.pulumi_config()
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({**config, "stageline:protectDat": "true"}))
    empty = StackFile(name=stack.name, path=stack.path, values={})
    plan = plan_stage(empty, functools.partial(deploy, stacks_copy, offline=True))
    assert isinstance(plan.error, ConfigError), plan.error
    assert "stageline:protectDat = True" in str(plan.error)
    assert "did you mean stageline:protectData?" in str(plan.error)
