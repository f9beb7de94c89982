"""Ephemeral CI stacks' rules (stageline/ci/stacks.py) without an engine: durations, ids, the
TTL read from a stack's tag and the backend's times, and the sweep's decisions. The same
commands run on the real engine in tests/integration/test_ci_stacks_engine.py."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from stageline.ci.stacks import (
    CiStack,
    CiStackError,
    Swept,
    ci_stack_names,
    created_at,
    parse_duration,
    read_ci_stack,
    stack_name,
    sweep,
)
from stageline.workspace import EPHEMERAL_HEADER, Project

STACKS = Path(__file__).resolve().parents[2] / "stacks"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        (" 2h\n", timedelta(hours=2)),
        ("1s", timedelta(seconds=1)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["0h", "h", "1w", "1.5h", "-1h", "", "24", "2h30m", "1H"])
def test_a_bad_duration_names_itself_and_the_fix(text: str) -> None:
    with pytest.raises(CiStackError) as caught:
        parse_duration(text, "--ttl")
    assert str(caught.value) == (
        f"--ttl {text!r} is not a duration: write a whole number above 0 and a unit, s, m, h "
        "or d (e.g. 90s, 30m, 24h, 7d)"
    )


def test_a_bad_duration_is_called_a_duration_unless_named() -> None:
    with pytest.raises(CiStackError, match=r"^duration 'soon' is not a duration: "):
        parse_duration("soon")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    shutil.copytree(STACKS, tmp_path / "stacks")
    shutil.copy(STACKS.parent / "Pulumi.yaml", tmp_path)
    return Project(tmp_path)


@pytest.mark.parametrize("ci_id", ["pr-7", "7", "a", "build-20261129"])
def test_plain_ids_make_ci_stack_names(project: Project, ci_id: str) -> None:
    assert stack_name(project, ci_id) == f"ci-{ci_id}"


@pytest.mark.parametrize("ci_id", ["PR-7", "pr_7", "-pr", "pr-", "", "../x", "pr 7", "pr.7"])
def test_an_id_that_is_not_a_plain_name_is_refused(project: Project, ci_id: str) -> None:
    with pytest.raises(CiStackError) as caught:
        stack_name(project, ci_id)
    assert str(caught.value) == (
        f"--id {ci_id!r} is not a plain name: use lower-case letters, digits and inner "
        "hyphens, e.g. pr-1234"
    )


@pytest.mark.parametrize(
    ("ci_id", "rule"),
    [("pr-" + "9" * 40, "at most 40"), ("pr--7", "single hyphens")],
)
def test_an_id_the_templates_target_refuses_is_refused_with_its_rule(
    project: Project, ci_id: str, rule: str
) -> None:
    with pytest.raises(CiStackError) as caught:
        stack_name(project, ci_id)
    said = str(caught.value)
    assert said.startswith(
        f"--id {ci_id!r} makes stack name 'ci-{ci_id}', which the ci template refuses:\n"
        f"invalid stageline configuration in stack 'ci-{ci_id}':"
    )
    assert rule in said
    assert said.endswith("\nFix: choose an id the rule above accepts (shorter, single hyphens)")


def test_an_id_whose_stack_file_is_the_projects_own_is_refused(project: Project) -> None:
    own = project.stacks_dir / "Pulumi.ci-own.yaml"
    own.write_text((project.stacks_dir / "Pulumi.ci.yaml").read_text())
    with pytest.raises(CiStackError) as caught:
        stack_name(project, "own")
    assert str(caught.value) == (
        f"--id 'own' makes stack name 'ci-own', whose stack file {own} is the project's own, "
        "not a copy of the ci template: choose another id (`ci` commands make and remove only "
        "copies; `stageline destroy` removes that stage)"
    )
    # A copy stageline made is no obstacle: `ci up` again, or `ci down`, use it.
    own.write_text(EPHEMERAL_HEADER + own.read_text())
    assert stack_name(project, "own") == "ci-own"


@dataclass
class FakeSummary:
    name: str
    last_update: datetime | None = None


@dataclass
class FakeUpdate:
    version: int
    start_time: datetime
    kind: str = "update"
    result: str = "succeeded"
    end_time: datetime | None = None
    message: str = ""


@dataclass
class FakeWorkspace:
    tags: dict[str, dict[str, str]]
    """By stack name."""

    def list_tags(self, name: str) -> dict[str, str]:
        return self.tags[name]


@dataclass
class FakeStack:
    """What the sweep reads of a stack: its history and its tags."""

    updates: list[FakeUpdate] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    name: str = "ci-x"

    def __post_init__(self) -> None:
        self.workspace = FakeWorkspace({self.name: self.tags})

    def history(self, show_secrets: bool = False) -> list[FakeUpdate]:
        return self.updates


def _read(project: Project, stack: FakeStack, name: str, older: timedelta | None) -> CiStack:
    summary: Any = FakeSummary(name, last_update=datetime(2026, 11, 1))
    return read_ci_stack(project, stack, summary, older)  # type: ignore[arg-type]


def test_the_age_is_the_first_updates_start_in_utc(project: Project) -> None:
    first, later = datetime(2026, 11, 28, 9, 0), datetime(2026, 11, 29, 9, 0)
    stack = FakeStack([FakeUpdate(2, later), FakeUpdate(1, first)])
    summary: Any = FakeSummary("ci-x", last_update=datetime(2026, 11, 29, 10, 0))
    assert created_at(stack, summary) == first.replace(tzinfo=UTC)  # type: ignore[arg-type]


def test_a_stack_never_updated_is_as_old_as_its_backend_entry(project: Project) -> None:
    summary: Any = FakeSummary("ci-x", last_update=datetime(2026, 11, 29, 10, 0))
    made = created_at(FakeStack(), summary)  # type: ignore[arg-type]
    assert made == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    with pytest.raises(CiStackError, match="ci-y: the backend gives no time for it"):
        created_at(FakeStack(), FakeSummary("ci-y"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tags", "older", "ttl", "said"),
    [
        ({"stageline:ttl": "2h"}, None, timedelta(hours=2), "tag 2h"),
        ({}, None, timedelta(hours=24), "default 24h"),
        (
            {"stageline:ttl": "soon"},
            None,
            timedelta(hours=24),
            "tag 'soon' unreadable, default 24h",
        ),
        ({"stageline:ttl": "2h"}, timedelta(minutes=5), timedelta(minutes=5), "--older-than"),
        ({"other": "2h"}, None, timedelta(hours=24), "default 24h"),
    ],
)
def test_the_time_to_live(
    project: Project, tags: dict[str, str], older: timedelta | None, ttl: timedelta, said: str
) -> None:
    found = _read(project, FakeStack(tags=tags), "ci-x", older)
    assert (found.name, found.ttl, found.ttl_from, found.committed) == ("ci-x", ttl, said, False)
    assert found.created == datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tags", "older"), [({"stageline:ttl": "2h"}, None), ({}, None), ({"stageline:ttl": "x"}, None)]
)
def test_a_stack_with_its_own_file_is_read_as_such_whatever_its_ttl(
    project: Project, tags: dict[str, str], older: timedelta | None
) -> None:
    (project.stacks_dir / "Pulumi.ci-own.yaml").write_text("config: {}\n")
    stack = FakeStack(tags=tags, name="ci-own")
    assert _read(project, stack, "ci-own", older).committed
    assert _read(project, stack, "ci-own", timedelta(seconds=1)).committed


def test_only_ci_stacks_are_listed_in_name_order() -> None:
    names = ["ci-b", "dev", "ci-a", "cix", "prod-ci-1", "ci"]
    found = ci_stack_names(FakeSummary(n) for n in names)  # type: ignore[misc]
    assert [s.name for s in found] == ["ci-a", "ci-b"]


def _stack(name: str, age: timedelta, ttl: timedelta, committed: bool = False) -> CiStack:
    return CiStack(name, NOW - age, ttl, f"tag {ttl}", committed)


def test_the_sweep_removes_the_expired_one_by_one_and_reports_each() -> None:
    found = [
        _stack("ci-old", timedelta(hours=25), timedelta(hours=24)),
        _stack("ci-edge", timedelta(hours=24), timedelta(hours=24)),
        _stack("ci-new", timedelta(hours=1), timedelta(hours=24)),
        _stack("ci-own", timedelta(days=9), timedelta(hours=1), committed=True),
        _stack("ci-bad", timedelta(hours=3), timedelta(hours=2)),
    ]
    removed: list[str] = []
    said: list[Swept] = []

    def remove(name: str) -> None:
        if name == "ci-bad":
            raise RuntimeError("  the stack is locked\n\n  by another update  ")
        removed.append(name)

    results = sweep(found, NOW, remove, False, said.append)
    assert removed == ["ci-old", "ci-edge"]
    assert results == said
    assert [(r.name, r.outcome) for r in results] == [
        ("ci-old", "removed"),
        ("ci-edge", "removed"),
        ("ci-new", "kept"),
        ("ci-own", "kept"),
        ("ci-bad", "failed"),
    ]
    assert results[0].detail == "made 2026-11-28 11:00:00 UTC, tag 1 day, 0:00:00"
    assert results[2].detail == (
        "made 2026-11-29 11:00:00 UTC, tag 1 day, 0:00:00: expires 2026-11-30 11:00:00 UTC"
    )
    assert results[3].detail == (
        "its stack file is the project's own, not a CI copy: `stageline destroy` removes it"
    )
    assert results[4].detail == "the stack is locked by another update"


def test_a_dry_sweep_removes_nothing() -> None:
    found = [
        _stack("ci-old", timedelta(hours=25), timedelta(hours=24)),
        _stack("ci-new", timedelta(hours=1), timedelta(hours=24)),
        _stack("ci-own", timedelta(days=9), timedelta(hours=1), committed=True),
    ]
    removed: list[str] = []
    results = sweep(found, NOW, removed.append, True, lambda r: None)
    assert removed == []
    assert [(r.name, r.outcome) for r in results] == [
        ("ci-old", "would remove"),
        ("ci-new", "kept"),
        ("ci-own", "kept"),
    ]
    assert results[0].detail == "made 2026-11-28 11:00:00 UTC, tag 1 day, 0:00:00"


def test_a_stack_expires_at_its_creation_plus_its_ttl() -> None:
    stack = _stack("ci-x", timedelta(hours=2), timedelta(hours=2))
    assert stack.expires == NOW
    assert stack.expired(NOW)
    assert not stack.expired(NOW - timedelta(seconds=1))


def test_the_engines_summary_type_is_what_the_fake_stands_for() -> None:
    # The fakes above read only these attributes of the engine's own types.
    assert {"name", "last_update"} <= set(auto.StackSummary.__init__.__code__.co_varnames)
