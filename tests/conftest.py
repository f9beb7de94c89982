"""Shared fixtures: the repo's stacks, plans of them, and edited copies for bad-input tests."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from stageline.graph import StageGraph, load_stage_graph
from stageline.plan.runner import StagePlan, plan_progression
from stageline.program import deploy
from stageline.stack_files import list_stack_files, stacks_dir

REPO_STACKS = stacks_dir(Path(__file__).resolve().parents[1])
DELETE = object()
"""Edit value that removes the key."""


def all_stack_names() -> list[str]:
    return [s.name for s in list_stack_files(REPO_STACKS)]


def edit_stack_file(path: Path, edits: Mapping[str, Any]) -> None:
    """Apply `{"network.cidr": "...", "promotesFrom": DELETE}` to a stack file's config. The
    file's leading comments stay (an ephemeral copy is known by its header)."""
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    header = "".join(lines[: next((i for i, ln in enumerate(lines) if not ln.startswith("#")), 0)])
    data = yaml.safe_load(text)
    config = data.setdefault("config", {})
    for dotted, value in edits.items():
        head, *rest = dotted.split(".")
        key = f"stageline:{head}"
        if not rest:
            if value is DELETE:
                config.pop(key, None)
            else:
                config[key] = value
            continue
        section = config.setdefault(key, {})
        for part in rest[:-1]:
            section = section.setdefault(part, {})
        if value is DELETE:
            section.pop(rest[-1], None)
        else:
            section[rest[-1]] = value
    path.write_text(header + yaml.safe_dump(data, sort_keys=False))


def plan_folder(
    folder: Path,
    wanted: list[str] | None = None,
    given: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[StagePlan]:
    stacks = {s.name: s for s in list_stack_files(folder)}
    graph: StageGraph = load_stage_graph(folder)
    return plan_progression(
        graph, stacks, functools.partial(deploy, folder, offline=True), wanted, given
    )


@pytest.fixture(scope="session")
def repo_plans() -> dict[str, StagePlan]:
    """Every stage in stacks/, planned once for the whole session."""
    plans = {p.stack: p for p in plan_folder(REPO_STACKS)}
    failed = {name: str(p.error) for name, p in plans.items() if not p.ok}
    assert not failed, f"stages failed to plan: {failed}"
    return plans


@pytest.fixture
def stacks_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "stacks"
    shutil.copytree(REPO_STACKS, folder)
    # `local` releases the example app (file://examples/app), read beside the stacks.
    shutil.copytree(REPO_STACKS.parent / "examples", tmp_path / "examples")
    return folder


@pytest.fixture
def plan_edited(stacks_copy: Path) -> Callable[..., StagePlan]:
    """Plan `stage` after editing stack files: plan_edited("prod", {"prod": {...}})."""

    def run(
        stage: str,
        edits: Mapping[str, Mapping[str, Any]],
        given: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> StagePlan:
        for name, stack_edits in edits.items():
            edit_stack_file(stacks_copy / f"Pulumi.{name}.yaml", stack_edits)
        plans = plan_folder(stacks_copy, [stage], given)
        return next(p for p in plans if p.stack == stage)

    return run
