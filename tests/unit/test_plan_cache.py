"""The cache of planned upstream outputs: reused for identical inputs, unused after any change,
and plans identical with and without it (and with and without planner processes)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from stageline.cli.main import cli
from stageline.graph import load_stage_graph
from stageline.plan.cache import CACHE_ENV, PlanCache
from stageline.plan.runner import StagePlan, plan_progression
from stageline.program import deploy
from stageline.revision import source_digest
from stageline.stack_files import list_stack_files
from tests.conftest import edit_stack_file

ROOT = Path(__file__).resolve().parents[2]


def plan_with(folder: Path, cache: PlanCache | None, wanted: list[str]) -> list[StagePlan]:
    stacks = {s.name: s for s in list_stack_files(folder)}
    program = functools.partial(deploy, folder, offline=True)
    return plan_progression(load_stage_graph(folder), stacks, program, wanted, cache=cache)


def summary(plan: StagePlan) -> tuple[list[tuple[str, str]], str]:
    resources = sorted((r.urn, json.dumps(r.inputs, sort_keys=True)) for r in plan.resources)
    return resources, json.dumps(plan.exports, sort_keys=True)


def test_cached_upstream_is_not_planned_again_and_changes_nothing(
    stacks_copy: Path, tmp_path: Path
) -> None:
    cache = PlanCache(tmp_path / "cache", "rev-a")
    first = plan_with(stacks_copy, cache, ["sandbox-azure"])
    assert [p.stack for p in first] == ["dev", "sandbox-azure"], [p.error for p in first]
    second = plan_with(stacks_copy, cache, ["sandbox-azure"])
    # dev's outputs came from the cache: only the stage asked for was planned.
    assert [p.stack for p in second] == ["sandbox-azure"]
    uncached = plan_with(stacks_copy, None, ["sandbox-azure"])
    assert all(p.ok for p in [*first, *second, *uncached])
    assert summary(second[0]) == summary(uncached[-1]) == summary(first[-1])


def test_a_change_to_the_upstream_stack_file_invalidates(stacks_copy: Path, tmp_path: Path) -> None:
    cache = PlanCache(tmp_path / "cache", "rev-a")
    plan_with(stacks_copy, cache, ["sandbox-azure"])
    edit_stack_file(stacks_copy / "Pulumi.dev.yaml", {"release.appVersion": "9.9.9"})
    again = plan_with(stacks_copy, cache, ["sandbox-azure"])
    assert [p.stack for p in again] == ["dev", "sandbox-azure"]
    # What the downstream received is the edited upstream's, not the cached one.
    assert again[-1].exports["release"]["appVersion"] == "9.9.9", again[-1].exports["release"]


def test_a_change_up_the_chain_invalidates_every_stage_below(
    stacks_copy: Path, tmp_path: Path
) -> None:
    cache = PlanCache(tmp_path / "cache", "rev-a")
    plan_with(stacks_copy, cache, ["prod"])
    assert [p.stack for p in plan_with(stacks_copy, cache, ["prod"])] == ["prod"]
    edit_stack_file(stacks_copy / "Pulumi.test.yaml", {"compute.maxCount": 5})
    again = plan_with(stacks_copy, cache, ["prod"])
    # dev is unchanged and cached; test changed, so qa and staging (keyed on it) re-plan too.
    assert [p.stack for p in again] == ["test", "qa", "staging", "prod"]


def test_a_new_template_revision_invalidates(stacks_copy: Path, tmp_path: Path) -> None:
    plan_with(stacks_copy, PlanCache(tmp_path / "cache", "rev-a"), ["sandbox-gcp"])
    again = plan_with(stacks_copy, PlanCache(tmp_path / "cache", "rev-b"), ["sandbox-gcp"])
    assert [p.stack for p in again] == ["dev", "sandbox-gcp"]


def test_the_revision_follows_the_template_sources(tmp_path: Path) -> None:
    folder = tmp_path / "components"
    (folder / "aws").mkdir(parents=True)
    (folder / "aws" / "network.py").write_text("CIDR = '10.0.0.0/16'\n")
    before = source_digest(folder)
    source_digest.cache_clear()
    (folder / "aws" / "network.py").write_text("CIDR = '10.1.0.0/16'\n")
    assert source_digest(folder) != before


def test_no_cache_entry_is_made_from_given_outputs(tmp_path: Path) -> None:
    """Given outputs may hold real secrets; nothing computed from them goes to disk."""
    outputs = tmp_path / "dev.json"
    dev = json.loads(
        CliRunner().invoke(cli, ["plan", "dev", "--format", "json", "--no-cache"]).output
    )
    outputs.write_text(json.dumps(dev["dev"]["exports"]))
    cache = tmp_path / "cache"
    result = CliRunner(env={CACHE_ENV: str(cache)}).invoke(
        cli, ["plan", "sandbox-gcp", "--upstream-outputs", str(outputs)]
    )
    assert result.exit_code == 0, result.output
    assert not cache.exists() or not list(cache.iterdir())


def test_plan_all_is_the_same_in_parallel_with_and_without_cache(tmp_path: Path) -> None:
    env = {CACHE_ENV: str(tmp_path / "cache")}
    runs = {
        "sequential, no cache": ["-j", "1", "--no-cache"],
        "parallel, cold cache": ["-j", "2"],
        "parallel, warm cache": ["-j", "2"],
    }
    outputs = {}
    for name, args in runs.items():
        result = CliRunner(env=env).invoke(cli, ["plan", "--all", "--format", "json", *args])
        assert result.exit_code == 0, f"{name}: {result.output}"
        outputs[name] = result.output
    assert len(set(outputs.values())) == 1, "plans differ between " + ", ".join(outputs)


def test_a_cached_upstream_keeps_its_sdk_out_of_the_process(tmp_path: Path) -> None:
    """sandbox-azure's upstream dev is on AWS; once dev is cached, AWS's SDK is never loaded."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), CACHE_ENV: str(tmp_path / "cache")}
    argv = [sys.executable, "-X", "importtime", "-m", "stageline.cli.main", "plan"]
    cold = subprocess.run([*argv, "sandbox-azure"], cwd=ROOT, env=env, capture_output=True)
    assert cold.returncode == 0, cold.stderr.decode()[-2000:]
    assert b"pulumi_aws" in cold.stderr  # the first run plans dev, which fills the cache
    warm = subprocess.run([*argv, "sandbox-azure"], cwd=ROOT, env=env, capture_output=True)
    assert warm.returncode == 0, warm.stderr.decode()[-2000:]
    assert b"pulumi_aws" not in warm.stderr
    assert warm.stdout == cold.stdout


def test_reuse_loads_whole_plans_of_unchanged_stages_and_replans_a_changed_one(
    stacks_copy: Path, tmp_path: Path
) -> None:
    cache = PlanCache(tmp_path / "cache", "rev-a")
    stacks = {s.name: s for s in list_stack_files(stacks_copy)}
    calls: list[str] = []

    def program() -> None:
        from pulumi import get_stack

        calls.append(get_stack())
        deploy(stacks_copy, offline=True)

    def plans() -> list[StagePlan]:
        graph = load_stage_graph(stacks_copy)
        found = {s.name: s for s in list_stack_files(stacks_copy)}
        return plan_progression(graph, found, program, ["dev", "test"], cache=cache, reuse=True)

    first = plans()
    assert sorted(calls) == ["dev", "test"] and all(p.ok for p in first)
    calls.clear()
    again = plans()
    assert calls == [], "unchanged stages are read from the cache, not planned"
    assert [p.stack for p in again] == ["dev", "test"]
    assert [summary(p) for p in again] == [summary(p) for p in first]
    assert [r.protect for r in again[0].resources] == [r.protect for r in first[0].resources]

    edit_stack_file(stacks["test"].path, {"compute.maxCount": 5})
    calls.clear()
    changed = plans()
    assert calls == ["test"], "only the edited stage is planned again"
    assert summary(changed[1]) != summary(first[1])
