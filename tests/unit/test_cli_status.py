"""`stageline status` on a stack file it cannot read: a clear error, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from stageline.cli.context import CliContext
from stageline.cli.main import cli
from stageline.workspace import Project
from tests.conftest import REPO_STACKS, edit_stack_file


def status(stacks: Path, *args: str) -> tuple[int, str]:
    root = stacks.parent
    shutil.copy(REPO_STACKS.parent / "Pulumi.yaml", root)
    result = CliRunner().invoke(cli, ["status", *args], obj=CliContext(Project(root)))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_an_unknown_target_is_named(stacks_copy: Path) -> None:
    edit_stack_file(stacks_copy / "Pulumi.local.yaml", {"target": "libvrt"})
    code, output = status(stacks_copy, "local")
    assert code == 1
    assert "stage 'local' names no known target; run `stageline plan local`" in output


def test_a_bad_target_section_is_named_with_its_fix(stacks_copy: Path) -> None:
    edit_stack_file(stacks_copy / "Pulumi.local.yaml", {"libvirt.uri": "qemu+tcp://x/system"})
    code, output = status(stacks_copy, "local")
    assert code == 1
    assert "stageline:libvirt.uri = 'qemu+tcp://x/system': not a QEMU libvirt URI" in output


def test_a_target_that_cannot_look_inside_says_so(stacks_copy: Path) -> None:
    code, output = status(stacks_copy, "dev")
    assert code == 1
    assert "stage 'dev''s target cannot look inside its machines" in output


def test_a_host_that_does_not_answer_is_named(stacks_copy: Path) -> None:
    # Nothing listens on loopback port 1: ssh is refused at once, and nothing leaves the host.
    uri = "qemu+ssh://root@127.0.0.1:1/system?known_hosts=/dev/null"
    edit_stack_file(stacks_copy / "Pulumi.onprem.yaml", {"libvirt.uri": uri})
    code, output = status(stacks_copy, "onprem")
    assert code == 1
    assert f"onprem: cannot reach libvirt at {uri}" in output
    assert "Traceback" not in output
