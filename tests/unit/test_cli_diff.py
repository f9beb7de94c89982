"""`stageline diff` through click's CLI runner, on the committed stacks."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import stageline.cli.diff as diff_module
from stageline.cli.main import cli
from stageline.plan.runner import StagePlan
from tests.conftest import REPO_STACKS


def run_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["diff", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def section(stage: str, name: str) -> dict[str, Any]:
    data = yaml.safe_load((REPO_STACKS / f"Pulumi.{stage}.yaml").read_text())
    return data["config"][f"stageline:{name}"]


def custom_types(plan: StagePlan) -> Counter[str]:
    return Counter(r.type for r in plan.resources if r.custom)


def test_staging_and_prod_differ_in_sizes_only() -> None:
    report = run_json("staging", "prod")
    assert report["stage"] == "staging" and report["peer"] == "prod"
    assert report["structural"] == []
    expected = {i["subject"]: i["detail"] for i in report["expected"]}
    # Every size the two stack files set differently is listed, with both values.
    for concern in ("compute", "database"):
        ours, theirs = section("staging", concern), section("prod", concern)
        for key in ("size", "storageGb", "minCount", "maxCount"):
            if key in ours and ours[key] != theirs[key]:
                detail = expected[f"{concern}.{key}"]
                assert f"{ours[key]} in staging" in detail and f"{theirs[key]} in prod" in detail
    assert "tier" in expected
    # Both are built alike: the same zones and NAT, so no network value is listed.
    assert section("staging", "network")["zoneCount"] == section("prod", "network")["zoneCount"]
    assert not [s for s in expected if s.startswith("network.")]


def test_a_dr_replica_resources_are_expected_not_drift(repo_plans: dict[str, StagePlan]) -> None:
    report = run_json("prod", "prod-dr")
    assert report["structural"] == []
    expected = {i["subject"]: i["detail"] for i in report["expected"]}
    prod, dr = custom_types(repo_plans["prod"]), custom_types(repo_plans["prod-dr"])
    only_dr = {t for t in dr if t not in prod}
    assert only_dr, "prod-dr plans resources prod does not (routing, replication)"
    for kind in only_dr:
        assert kind in expected, kind
        assert expected[kind].startswith(f"0 in prod, {dr[kind]} in prod-dr"), expected[kind]
        assert "disasterRecovery" in expected[kind]
    for kind in (t for t in prod if t in dr and prod[t] != dr[t]):
        assert expected[kind].startswith(f"{prod[kind]} in prod, {dr[kind]} in prod-dr")
    mode = section("prod-dr", "disasterRecovery")["mode"]
    assert expected["disasterRecovery.mode"] == f"unset in prod, {mode} in prod-dr"


def test_local_and_onprem_show_the_standby_as_expected(repo_plans: dict[str, StagePlan]) -> None:
    report = run_json("local", "onprem")
    assert report["structural"] == []
    expected = {i["subject"]: i["detail"] for i in report["expected"]}
    assert section("onprem", "database")["highAvailability"] is True
    assert "database.highAvailability" in expected
    local, onprem = custom_types(repo_plans["local"]), custom_types(repo_plans["onprem"])
    grown = [t for t in onprem if local[t] and onprem[t] > local[t]]
    assert grown, "onprem's standby and second app guest add guests and volumes"
    for kind in grown:
        assert expected[kind].startswith(f"{local[kind]} in local, {onprem[kind]} in onprem")


def test_text_output_lists_expected_apart_from_drift() -> None:
    result = CliRunner().invoke(cli, ["diff", "staging", "prod"])
    assert result.exit_code == 0, result.output
    expected_at = result.output.index("expected differences")
    drift_at = result.output.index("structural drift")
    assert expected_at < drift_at
    size = section("prod", "compute")["size"]
    assert f"{size} in prod" in result.output[expected_at:drift_at]
    assert result.output[drift_at:].split("\n")[0].endswith("none")


@pytest.fixture
def prod_without_gateway(monkeypatch: pytest.MonkeyPatch) -> str:
    """Plans as a template would give them if it left a resource out of prod alone, which no
    stack value asks for: drift. (staging and prod set their network alike, so no network
    value explains a missing network resource.)"""
    real = diff_module.plan_stages
    dropped = "aws:ec2/internetGateway:InternetGateway"

    def plan_stages(*args: Any, **kwargs: Any) -> list[StagePlan]:
        plans = real(*args, **kwargs)
        for p in plans:
            if p.stack == "prod":
                p.resources = [r for r in p.resources if r.type != dropped]
        return plans

    monkeypatch.setattr(diff_module, "plan_stages", plan_stages)
    return dropped


def test_drift_is_reported_and_fails_only_when_asked(prod_without_gateway: str) -> None:
    result = CliRunner().invoke(cli, ["diff", "staging", "prod", "--format", "json"])
    assert result.exit_code == 0, result.output
    structural = json.loads(result.output)["structural"]
    assert [i["subject"] for i in structural] == [prod_without_gateway]
    assert structural[0]["detail"].startswith("1 in staging, 0 in prod")

    failing = CliRunner().invoke(cli, ["diff", "staging", "prod", "--fail-on-drift"])
    assert failing.exit_code == 1
    assert prod_without_gateway in failing.output
    assert "drift between staging and prod" in failing.output


def test_an_ephemeral_copy_compares_with_its_template() -> None:
    report = run_json("ci-pr-9", "ci")
    assert report == {"stage": "ci-pr-9", "peer": "ci", "expected": [], "structural": []}


def test_unknown_or_equal_stages_are_usage_errors() -> None:
    unknown = CliRunner().invoke(cli, ["diff", "staging", "uat"])
    assert unknown.exit_code == 2 and "Pulumi.uat.yaml" in unknown.output
    same = CliRunner().invoke(cli, ["diff", "prod", "prod"])
    assert same.exit_code == 2 and "two different stages" in same.output
