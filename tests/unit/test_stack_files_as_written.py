"""A stack file the engine wrote back (every scalar as text) reads as the user wrote it."""

from __future__ import annotations

from pathlib import Path

from stageline.cli.destroy import is_protected
from stageline.graph import node_from_file
from stageline.stack_files import read_stack_file

WRITTEN_BACK = """config:
  stageline:stage: "007"
  stageline:tier: preproduction
  stageline:target: libvirt
  stageline:region: dc1
  stageline:protectData: "true"
  stageline:routableWith: '["onprem"]'
  stageline:release: not json
  stageline:disasterRecovery:
    mode: warm-standby
    drillCidr: 10.72.0.0/24
  stageline:database:
    backupRetentionDays: 0
"""


def test_flags_written_back_as_text_still_protect(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.007.yaml"
    path.write_text(WRITTEN_BACK)
    stack = read_stack_file(path)
    assert stack.values["protectData"] is True
    # A careless destroy of this stage is still refused.
    assert is_protected(stack)
    assert stack.values["routableWith"] == ["onprem"]
    # Names stay text, whatever they look like; text that is not JSON stays as written.
    assert stack.values["stage"] == "007"
    assert stack.values["release"] == "not json"
    node = node_from_file(stack)
    assert (node.routable_with, node.backup_days) == (("onprem",), 0)
    assert (node.is_dr, node.drill_cidr) == (True, "10.72.0.0/24")
