"""A stage's program imports only its own target's provider SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from components.contract import SCHEMA_VERSION
from components.regions import TARGETS
from stageline.stack_files import read_stack_file
from tests.conftest import REPO_STACKS, all_stack_names

PROBE = """
import json, sys
from pathlib import Path
from stageline.graph import load_stage_graph
from stageline.plan.runner import plan_progression
from stageline.program import deploy
from stageline.stack_files import list_stack_files
folder = Path(sys.argv[1])
stacks = {s.name: s for s in list_stack_files(folder)}
program = lambda: deploy(folder, offline=True)
given = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
plans = plan_progression(load_stage_graph(folder), stacks, program, [sys.argv[2]], given)
print(json.dumps({"ok": all(p.ok for p in plans), "modules": sorted(sys.modules)}))
"""

# The SDKs of each target; pulumi-random is shared by all of them.
TARGET_SDKS = {
    "aws": {"pulumi_aws"},
    "azure": {"pulumi_azure_native"},
    "gcp": {"pulumi_gcp"},
    "libvirt": {"pulumi_libvirt", "pulumi_command"},
}


def upstream_outputs(stage: str) -> list[str]:
    """An upstream on another target is given as outputs: planning it would load its SDK into
    the same process, which is the plan's doing, not the program's."""
    values = read_stack_file(REPO_STACKS / f"Pulumi.{stage}.yaml").values
    upstream = values.get("promotesFrom")
    if not upstream:
        return []
    if (
        read_stack_file(REPO_STACKS / f"Pulumi.{upstream}.yaml").values["target"]
        == values["target"]
    ):
        return []
    release = {"appVersion": "1.0.0", "artifact": "registry/app:1.0.0", "templateRevision": "t"}
    return [json.dumps({upstream: {"schemaVersion": SCHEMA_VERSION, "release": release}})]


@pytest.mark.parametrize("stage", ["dev", "prod", "sandbox-azure", "sandbox-gcp"])
def test_stage_imports_only_its_target_sdk(stage: str) -> None:
    assert stage in all_stack_names()
    target = read_stack_file(REPO_STACKS / f"Pulumi.{stage}.yaml").values["target"]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO_STACKS), stage, *upstream_outputs(stage)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"], result.stderr
    roots = {m.split(".")[0] for m in report["modules"]}
    assert TARGET_SDKS[target] <= roots, f"{stage} did not load its own SDK"
    others = set().union(*(TARGET_SDKS[t] for t in TARGETS if t != target))
    assert not roots & others, f"{stage} ({target}) imported {roots & others}"
    foreign = {m for m in report["modules"] if m.startswith("components.")} - {
        m for m in report["modules"] if m.startswith(f"components.{target}")
    }
    assert not {m for m in foreign if m.split(".")[1] in TARGETS}, foreign


PROVIDER_MODULES = sorted(
    f"components.libvirt.resources.{p.stem}"
    for p in (Path(__file__).parents[2] / "components/libvirt/resources").glob("*.py")
    if p.stem != "__init__"
)


@pytest.mark.parametrize("module", PROVIDER_MODULES)
def test_libvirt_provider_modules_load_without_the_config_model(module: str) -> None:
    # The engine starts a provider process for the dynamic resources on every `up`, and each
    # of its calls unpickles a provider, importing its module: pydantic there cost every
    # no-op `up local` a tenth of a second.
    probe = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    assert not {"pydantic", "components.spec", "components.model"} & loaded, module
