"""The policy pack through the engine built here: `pulumi preview --policy-pack policy/analyzer`
on the `local` stage reports a violation when the policy config makes it a production stage
(its data volumes are not protected) and passes as it is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policy.engine import pack_config
from policy.model import StageContext
from tests.integration.test_plain_pulumi import engine_bin, fresh_shell, project, pulumi

__all__ = ["engine_bin", "project"]  # fixtures


def _preview(engine: Path, root: Path, tmp_path: Path, context: StageContext) -> str:
    shutil.copytree(Path(__file__).resolve().parents[2] / "policy", root / "policy")
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps(pack_config(context)))
    env = fresh_shell(engine, tmp_path)
    pulumi(env, root, "stack", "init", "local")
    run = pulumi(
        env,
        root,
        "preview",
        "-s",
        "local",
        "--policy-pack",
        "policy/analyzer",
        "--policy-pack-config",
        str(config),
    )
    return f"rc={run.returncode}\n{run.stdout}\n{run.stderr}"


@pytest.mark.integration
def test_engine_reports_a_mandatory_violation(
    engine_bin: Path, project: Path, tmp_path: Path
) -> None:
    out = _preview(engine_bin, project, tmp_path, StageContext("local", "production", "local"))
    assert out.startswith("rc=1"), out
    assert "[mandatory]  production-data-protection" in out, out
    assert "local-database-0-data: protect = False" in out, out
    assert "[advisory]  size-within-tier" in out, out
    # The seeds hold the database password as a secret: not a plaintext finding.
    assert "no-plaintext-boot-secret" not in out, out


@pytest.mark.integration
def test_engine_passes_the_committed_local_stage(
    engine_bin: Path, project: Path, tmp_path: Path
) -> None:
    out = _preview(engine_bin, project, tmp_path, StageContext("local", "development", "local"))
    assert out.startswith("rc=0"), out
    assert "✅ stageline-policy" in out, out
