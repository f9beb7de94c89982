"""The gates' decisions (stageline/gates/checks.py), table-driven, and the records they leave
in update messages (stageline/gates/record.py); the approver read from a GitHub run's
approvals through the local fake of GitHub's API (tests/fake_github.py: no GitHub is
reachable here)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from components.contract import ReleaseManifest
from components.dr_ops import IngressHealth
from stageline.gates.checks import (
    Approver,
    approval_gate,
    deployed_since,
    soak_gate,
    verify_gate,
)
from stageline.gates.record import (
    GateOutcome,
    PromotionRecord,
    Update,
    UpdateMark,
    message_for,
    read_mark,
    release_fields_of,
)
from stageline.gates.sources import GateError, approver_from
from tests.fake_github import FakeGitHub, serve

RELEASE = ReleaseManifest("1.2.0", "registry/app:1.2.0", "tpl-1")
OTHER = ReleaseManifest("1.1.0", "registry/app:1.1.0", "tpl-1")
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def update(
    version: int,
    minutes: int,
    release: ReleaseManifest | None,
    kind: str = "update",
    result: str = "succeeded",
) -> Update:
    mark = UpdateMark(release=release_fields_of(release)) if release else None
    at = T0 + timedelta(minutes=minutes)
    return Update(version, kind, result, at - timedelta(seconds=30), at, mark)


@pytest.mark.parametrize(
    ("history", "since"),
    [
        ([], None),
        ([update(1, 0, RELEASE)], 0),
        ([update(3, 20, RELEASE), update(2, 10, RELEASE), update(1, 0, OTHER)], 10),
        ([update(3, 20, RELEASE), update(2, 10, None), update(1, 0, RELEASE)], 20),
        ([update(2, 10, RELEASE, kind="refresh"), update(1, 0, RELEASE)], 0),
        ([update(2, 10, RELEASE, result="failed"), update(1, 0, RELEASE)], None),
        ([update(2, 10, RELEASE), update(1, 0, RELEASE, kind="destroy")], 10),
        ([update(1, 0, OTHER)], None),
        ([update(1, 0, ReleaseManifest("1.2.0", "registry/app:other", "tpl-1"))], None),
        (
            [update(1, 0, ReleaseManifest("1.2.0", "registry/app:1.2.0", "tpl-2"))],
            0,
        ),
    ],
    ids=[
        "no history",
        "one update",
        "run of the same release",
        "a plain update breaks the run",
        "a refresh is skipped",
        "a failed update blocks",
        "a destroy ends the run",
        "another release",
        "the same version of another artifact",
        "the template revision alone does not restart it",
    ],
)
def test_deployed_since(history: list[Update], since: int | None) -> None:
    found = deployed_since(history, RELEASE)
    assert found == (None if since is None else T0 + timedelta(minutes=since))


def test_soak_blocks_until_the_minutes_have_passed() -> None:
    history = [update(1, 0, RELEASE)]
    early = soak_gate(30, "qa", RELEASE, history, T0 + timedelta(minutes=29, seconds=59))
    assert not early.passed
    assert "only since 2026-11-01 12:00:00 UTC (29 of 30 min)" in early.reason
    assert early.fix == "wait until 2026-11-01 12:30:00 UTC, then retry"
    done = soak_gate(30, "qa", RELEASE, history, T0 + timedelta(minutes=30))
    assert done.passed and "(30 min, 30 needed)" in done.reason
    partial = soak_gate(30, "qa", RELEASE, history, T0 + timedelta(minutes=10, seconds=59))
    assert "(10 of 30 min)" in partial.reason, partial.reason
    never = soak_gate(30, "qa", RELEASE, [], T0)
    assert not never.passed and "stageline up qa" in never.fix


@pytest.mark.parametrize(
    ("health", "passed", "says"),
    [
        (IngressHealth(True, "200, appVersion 1.2.0", "1.2.0"), True, "answered 200"),
        (IngressHealth(True, "200, appVersion 1.1.0", "1.1.0"), False, "not the release 1.2.0"),
        (IngressHealth(False, "503", None), False, "is not healthy: 503"),
        (IngressHealth(True, "200", None), False, "not the release"),
    ],
)
def test_verify(health: IngressHealth, passed: bool, says: str) -> None:
    gate = verify_gate("qa", RELEASE, health)
    assert gate.passed is passed and says in gate.reason
    assert gate.passed or "stageline" in gate.fix


def test_an_unhealthy_upstream_says_how_to_pass_or_skip_verify() -> None:
    gate = verify_gate("qa", RELEASE, IngressHealth(False, "503", None))
    assert gate.fix == (
        "repair qa until `stageline status qa` shows it healthy, then retry (or set "
        "gates.verify: false in the stack file to skip this check)"
    )


def test_approval() -> None:
    free = approval_gate([], None, "qa")
    assert free.passed and free.reason == "not required"
    noted = approval_gate([], Approver("ann", "--approved-by"), "qa")
    assert noted.reason == "not required; approved by ann (--approved-by)"
    blocked = approval_gate(["prod is production", "sg widens its ingress"], None, "prod")
    assert not blocked.passed
    assert blocked.reason == "needs an approval: prod is production; sg widens its ingress"
    assert "--approved-by" in blocked.fix and "'prod'" in blocked.fix
    given = approval_gate(["prod is production"], Approver("ann", "--approved-by"), "prod")
    assert given.passed
    assert given.reason == "approved by ann (--approved-by); required: prod is production"


def test_a_record_round_trips_through_an_update_message() -> None:
    record = PromotionRecord(
        stage="prod",
        release=release_fields_of(RELEASE) or {},
        from_stage="staging",
        from_stack="staging",
        approved_by="ann",
        approval="--approved-by",
        gates=(GateOutcome(gate="verify", passed=True, reason="ok"),),
        decided_at=T0.isoformat(),
    )
    message = message_for(UpdateMark(release=record.release, promotion=record))
    assert message.startswith("stageline {")
    assert read_mark(message) == UpdateMark(release=record.release, promotion=record)
    assert read_mark("deployed by hand") is None
    assert read_mark("stageline not json") is None
    assert read_mark(None) is None


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serve() as fake:
        fake.add_token("run-token", "github-actions", write=False)
        yield fake


def actions_env(fake: FakeGitHub, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": "42",
        "GITHUB_TOKEN": "run-token",
        "GITHUB_API_URL": fake.url,
        **extra,
    }


def test_the_approver_comes_from_the_command_line_first(github: FakeGitHub) -> None:
    assert approver_from("ann", "prod", actions_env(github)) == Approver("ann", "--approved-by")
    assert approver_from(None, "prod", {}) is None
    with pytest.raises(GateError, match="empty"):
        approver_from("  ", "prod", {})


def test_the_approver_of_the_stage_environment_in_github_actions(github: FakeGitHub) -> None:
    github.approve("acme/shop", 42, "bob", "staging")
    github.approve("acme/shop", 42, "eve", "prod", state="rejected")
    assert approver_from(None, "prod", actions_env(github)) is None
    github.approve("acme/shop", 42, "carol", "prod")
    assert approver_from(None, "prod", actions_env(github)) == Approver(
        "carol", "GitHub environment prod"
    )
    named = actions_env(github, STAGELINE_APPROVAL_ENVIRONMENT="staging")
    assert approver_from(None, "prod", named) == Approver("bob", "GitHub environment staging")
    assert approver_from(None, "prod", actions_env(github, GITHUB_RUN_ID="43")) is None


def test_unreadable_approvals_are_one_clear_error(github: FakeGitHub) -> None:
    with pytest.raises(GateError, match="cannot read who approved run 42 of acme/shop"):
        approver_from(None, "prod", actions_env(github, GITHUB_TOKEN="wrong"))


def test_a_gate_turned_off_passes_saying_why() -> None:
    from stageline.gates.checks import skipped

    assert skipped("verify", "turned off") == GateOutcome(
        gate="verify", passed=True, reason="turned off", fix=""
    )


@pytest.mark.parametrize(
    ("gates", "key", "says"),
    [
        ({"soakMinutes": -1}, "gates.soakMinutes", "not a whole number of minutes"),
        ({"soakMinutes": "an hour"}, "gates.soakMinutes", "not a whole number of minutes"),
        ({"verify": "yes"}, "gates.verify", "not a boolean"),
        ({"approval": 1}, "gates.approval", "not a boolean"),
        ({"soakMinute": 5}, "gates.soakMinute", "did you mean soakMinutes?"),
    ],
)
def test_bad_gates_are_refused_naming_the_key(gates: dict, key: str, says: str) -> None:
    from pathlib import Path

    from components.errors import ConfigError
    from stageline.config import file_config
    from stageline.stack_files import read_stack_file

    stack = read_stack_file(Path(__file__).resolve().parents[2] / "stacks/Pulumi.qa.yaml")
    stack.values["gates"] = gates
    with pytest.raises(ConfigError) as found:
        file_config(stack)
    assert f"stageline:{key} = " in str(found.value) and says in str(found.value)


@pytest.mark.parametrize(
    ("cidrs", "problem"),
    [
        (["10.99.0.0/24"], None),
        (["10.0.0.0/8"], None),
        (["nope"], "not a network CIDR"),
        (["10.99.0.1/24"], "not a network CIDR"),
        (["fd00::/64"], "not IPv4"),
        (["8.0.0.0/7"], "wider than /8"),
        (["0.0.0.0/0"], "wider than /8"),
    ],
)
def test_ingress_allowed_cidrs(cidrs: list[str], problem: str | None) -> None:
    from components.spec import IngressSpec, validate_ingress

    issues = validate_ingress(IngressSpec(allowed_cidrs=tuple(cidrs)))
    if problem is None:
        assert issues == []
    else:
        (issue,) = issues
        assert issue.key == "ingress.allowedCidrs[0]" and issue.value == cidrs[0]
        assert problem in issue.problem and issue.fix
