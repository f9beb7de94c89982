"""Every kind of bad input stops the real program before any resource is registered.

Each case edits a copy of the repo's stack files, plans the stage under mocks and checks that
the error names the key, the value and a fix, and that only the root stack was registered.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.errors import ConfigError
from stageline.plan.runner import StagePlan, plan_stage
from stageline.program import deploy
from stageline.stack_files import read_stack_file
from tests.conftest import DELETE, edit_stack_file

STACK_ONLY = ["pulumi:pulumi:Stack"]

# (case, stage, {stack: edits}, key in message, value fragment in message)
CASES: list[tuple[str, str, dict[str, dict[str, Any]], str, str]] = [
    ("unknown target", "dev", {"dev": {"target": "openstack"}}, "stageline:target", "'openstack'"),
    ("unknown region", "dev", {"dev": {"region": "us-east-9"}}, "stageline:region", "'us-east-9'"),
    (
        "region of another target",
        "dev",
        {"dev": {"region": "westeurope"}},
        "stageline:region",
        "'westeurope'",
    ),
    (
        "preproduction stage without upstream",
        "qa",
        {"qa": {"promotesFrom": DELETE}},
        "stageline:promotesFrom",
        "None",
    ),
    (
        "entry stage with neither upstream nor pinned release",
        "dev",
        {"dev": {"release": DELETE}},
        "stageline:promotesFrom",
        "None",
    ),
    (
        "public CIDR",
        "dev",
        {"dev": {"network.cidr": "8.8.0.0/16"}},
        "stageline:network.cidr",
        "'8.8.0.0/16'",
    ),
    (
        "malformed CIDR",
        "dev",
        {"dev": {"network.cidr": "10.10.0.0/33"}},
        "stageline:network.cidr",
        "'10.10.0.0/33'",
    ),
    (
        "prod with one zone",
        "prod",
        {"prod": {"network.zoneCount": 1}},
        "stageline:network.zoneCount",
        "= 1",
    ),
    (
        "more zones than the region has",
        "prod",
        {"prod": {"network.zoneCount": 7}},
        "stageline:network.zoneCount",
        "= 7",
    ),
    (
        "min above max",
        "qa",
        {"qa": {"compute.minCount": 5, "compute.maxCount": 3}},
        "stageline:compute.minCount",
        "= 5",
    ),
    ("zero max count", "qa", {"qa": {"compute.maxCount": 0}}, "stageline:compute.maxCount", "= 0"),
    (
        "negative storage",
        "qa",
        {"qa": {"database.storageGb": -5}},
        "stageline:database.storageGb",
        "= -5",
    ),
    ("unknown size", "qa", {"qa": {"compute.size": "huge"}}, "stageline:compute.size", "'huge'"),
    (
        "count that is not a number",
        "qa",
        {"qa": {"compute.minCount": "three"}},
        "stageline:compute.minCount",
        "'three'",
    ),
    (
        "misspelt key",
        "qa",
        {"qa": {"network.zoneCont": 2}},
        "stageline:network.zoneCont",
        "zoneCount",
    ),
    (
        "prod backup retention below minimum",
        "prod",
        {"prod": {"database.backupRetentionDays": 3}},
        "stageline:database.backupRetentionDays",
        "= 3",
    ),
    (
        "HA off in prod",
        "prod",
        {"prod": {"database.highAvailability": False}},
        "stageline:database.highAvailability",
        "= False",
    ),
    (
        "unprotected data in prod",
        "prod",
        {"prod": {"protectData": False}},
        "stageline:protectData",
        "= False",
    ),
    (
        "log retention CloudWatch refuses",
        "qa",
        {"qa": {"observability.logRetentionDays": 10}},
        "stageline:observability.logRetentionDays",
        "= 10",
    ),
    (
        "database password in plain text",
        "prod",
        {"prod": {"dbPassword": "hunter2-plain"}},
        "stageline:dbPassword",
        "plain text",
    ),
    # Graph-level: the program draws the graph from every stack file before it registers anything.
    ("unknown upstream", "qa", {"qa": {"promotesFrom": "uat"}}, "stageline:promotesFrom", "'uat'"),
    ("promotion cycle", "qa", {"dev": {"promotesFrom": "qa"}}, "stageline:promotesFrom", "cycle"),
    (
        "overlapping CIDRs of routable stages",
        "prod",
        {"prod": {"routableWith": ["staging"], "network.cidr": "10.40.0.0/16"}},
        "stageline:network.cidr",
        "overlaps",
    ),
    ("routable stage unknown", "prod", {"prod": {"routableWith": ["dc1"]}}, "routableWith", "dc1"),
]


def run_program_alone(folder: Path, stage: str) -> StagePlan:
    """The stage's program with no upstream outputs: config errors must come first anyway."""
    stack = read_stack_file(folder / f"Pulumi.{stage}.yaml")
    return plan_stage(stack, functools.partial(deploy, folder, offline=True))


@pytest.mark.parametrize(
    ("stage", "edits", "key", "fragment"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_bad_input_is_rejected_before_any_resource(
    stacks_copy: Path, stage: str, edits: dict[str, dict[str, Any]], key: str, fragment: str
) -> None:
    for name, stack_edits in edits.items():
        edit_stack_file(stacks_copy / f"Pulumi.{name}.yaml", stack_edits)
    plan = run_program_alone(stacks_copy, stage)
    assert isinstance(plan.error, ConfigError), f"expected a ConfigError, got {plan.error!r}"
    message = str(plan.error)
    assert key in message, message
    assert fragment in message, message
    assert "fix:" in message, message
    assert [r.type for r in plan.resources] == STACK_ONLY, [r.urn for r in plan.resources]


def test_plain_text_password_is_never_echoed(stacks_copy: Path) -> None:
    edit_stack_file(stacks_copy / "Pulumi.prod.yaml", {"dbPassword": "hunter2-plain"})
    plan = run_program_alone(stacks_copy, "prod")
    assert "hunter2-plain" not in str(plan.error)
    assert "--secret" in str(plan.error)


def test_all_problems_are_reported_at_once(stacks_copy: Path) -> None:
    edit_stack_file(
        stacks_copy / "Pulumi.qa.yaml",
        {"compute.size": "huge", "database.storageGb": 0, "network.cidr": "8.0.0.0/16"},
    )
    plan = run_program_alone(stacks_copy, "qa")
    assert isinstance(plan.error, ConfigError)
    keys = {issue.key for issue in plan.error.issues}
    assert {"compute.size", "database.storageGb", "network.cidr"} <= keys, keys


def test_dr_replica_in_primary_region_is_rejected(stacks_copy: Path) -> None:
    prod = yaml.safe_load((stacks_copy / "Pulumi.prod.yaml").read_text())
    dr = {"config": dict(prod["config"])}
    dr["config"].update(
        {
            "stageline:stage": "dr",
            "stageline:promotesFrom": "prod",
            "stageline:disasterRecovery": {"mode": "pilot-light"},
            "stageline:network": {**prod["config"]["stageline:network"], "cidr": "10.60.0.0/16"},
        }
    )
    (stacks_copy / "Pulumi.dr.yaml").write_text(yaml.safe_dump(dr))
    plan = run_program_alone(stacks_copy, "dr")
    assert isinstance(plan.error, ConfigError), plan.error
    assert "[dr] stageline:region = 'us-east-1'" in str(plan.error)
    assert "other than us-east-1" in str(plan.error)
    assert [r.type for r in plan.resources] == STACK_ONLY


def test_dr_replica_overlapping_its_primary_is_rejected(stacks_copy: Path) -> None:
    prod = yaml.safe_load((stacks_copy / "Pulumi.prod.yaml").read_text())
    dr = {"config": dict(prod["config"])}
    dr["config"].update(
        {
            "stageline:stage": "dr",
            "stageline:region": "us-west-2",
            "stageline:promotesFrom": "prod",
            "stageline:disasterRecovery": {"mode": "warm-standby"},
        }
    )
    (stacks_copy / "Pulumi.dr.yaml").write_text(yaml.safe_dump(dr))
    plan = run_program_alone(stacks_copy, "dr")
    assert isinstance(plan.error, ConfigError), plan.error
    assert "overlaps prod's 10.50.0.0/16, its DR primary" in str(plan.error)
