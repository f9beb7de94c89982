"""The offline policy gate of `stageline plan`: committed stacks pass, a mutated template fails
with the policy named, and the engine side's config and value adapters."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws
import pytest
from click.testing import CliRunner

from policy.engine import context_from_config, engine_value, mark_secrets, pack_config
from policy.model import UNKNOWN, Secret, StageContext
from policy.rules import POLICY_NAMES
from stageline.cli.main import cli


def test_committed_stacks_pass_the_mandatory_policies() -> None:
    result = CliRunner().invoke(cli, ["plan", "--all"])
    assert result.exit_code == 0, result.output
    assert "policy violation" not in result.output


def test_a_public_database_fails_plan_with_the_policy_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = aws.rds.Instance

    def public(name: str, *args: Any, **kwargs: Any) -> Any:
        return original(name, *args, **{**kwargs, "publicly_accessible": True})

    monkeypatch.setattr(aws.rds, "Instance", public)
    result = CliRunner().invoke(cli, ["plan", "dev", "--no-cache"])
    assert result.exit_code == 1, result.output
    assert (
        "[no-public-database] aws:rds/instance:Instance dev-database-pg: publiclyAccessible = True"
        in result.output
    )
    assert "fix: set publiclyAccessible: false" in result.output
    assert "mandatory policy violations in dev" in result.output
    assert "Traceback" not in result.output


def test_an_unencrypted_bucket_fails_plan_with_the_policy_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = aws.s3.BucketServerSideEncryptionConfiguration

    def unencrypted(name: str, *args: Any, **kwargs: Any) -> Any:
        return original(name, *args, **{**kwargs, "rules": [{"bucket_key_enabled": False}]})

    monkeypatch.setattr(aws.s3, "BucketServerSideEncryptionConfiguration", unencrypted)
    result = CliRunner().invoke(cli, ["plan", "dev", "--no-cache"])
    assert result.exit_code == 1, result.output
    assert "[encryption-at-rest]" in result.output and "dev-storage" in result.output
    assert "Traceback" not in result.output


def test_advisories_are_warnings_only() -> None:
    result = CliRunner().invoke(cli, ["plan", "onprem"])
    assert result.exit_code == 0, result.output
    assert "policy warning: onprem: [size-within-tier]" in result.output


def test_pack_config_round_trips_the_context() -> None:
    context = StageContext("prod-dr", "production", "us-west-2", "us-east-1")
    config = pack_config(context)
    assert set(config) == set(POLICY_NAMES)
    assert config["size-within-tier"]["enforcementLevel"] == "advisory"
    assert context_from_config(config["dr-region"]) == context
    plain = StageContext("dev", "development", "us-east-2")
    assert context_from_config(pack_config(plain)["stage-tag"]) == plain


def test_engine_values_keep_secrets_and_unknowns() -> None:
    sig = "4dabf18193072939515e22adb298388d"
    wire = {"a": {sig: "1b47061264138c4ac30d75fd1eb44270", "value": {"b": "x"}}, "c": [1, {"d": 2}]}
    assert mark_secrets(wire) == {"a": Secret({"b": "x"}), "c": [1, {"d": 2}]}
    assert engine_value({"u": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "l": ("x",)}) == {
        "u": UNKNOWN,
        "l": ["x"],
    }
