"""The GitHub workflows: actionlint finds nothing wrong, every stageline command they run is
one the CLI accepts with those arguments, and deploy.yml promotes along the stage graph.

actionlint is built by scripts/setup into .stageline/tools (from its Go module). What the
commands do is tested where each is built: promote and up --approved-report in
tests/integration/test_promotion_gates_engine.py, ci up/down/gc in test_ci_stacks_engine.py,
preview --all --changed in tests/unit/test_ci_changes.py, ci comment in test_ci_comment_cli.py.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from stageline.cli.main import cli
from stageline.model import stage_keys
from stageline.stack_files import list_stack_files, read_stack_file

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_MANIFEST = ROOT / "deploy/kubernetes/stack-staging.yaml"
WORKFLOWS = ROOT / ".github/workflows"
ACTIONLINT = ROOT / ".stageline/tools/actionlint"
COMMAND = re.compile(r"\.venv/bin/stageline\s+([^|&;]+)")
VARIABLE = re.compile(r"\$\{?(\w+)\}?")
# What the expressions behind each variable give in a run (the event's values).
EXAMPLES = {"BASE": "origin/main", "REPO": "acme/shop", "PR": "7", "STAGE": "prod-dr"}


def workflows() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def actionlint(*args: str) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.exists(), f"{ACTIONLINT} missing: run scripts/setup"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_is_clean() -> None:
    assert {p.name for p in workflows()} >= {"preview.yml", "deploy.yml", "ci-stacks.yml", "dr.yml"}
    # Named, so that a copy of the project that is not a git checkout is linted too.
    done = actionlint(*(str(p) for p in workflows()))
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "ci-stacks.yml").read_text()
    broken.write_text(text.replace("github.event.pull_request", "github.evnt.pull_request"))
    done = actionlint(str(broken))
    assert done.returncode == 1, done.stdout
    assert "evnt" in done.stdout, done.stdout


def _env(*scopes: Mapping[str, Any] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for scope in scopes:
        for key, value in (scope or {}).items():
            text = str(value)
            found[key] = EXAMPLES.get(key, text) if "${{" in text else text
    return found


def commands() -> Iterator[tuple[str, list[str]]]:
    """(where, argv) of every stageline command a workflow runs, its variables filled in."""
    for path in workflows():
        flow = yaml.safe_load(path.read_text())
        for job_name, job in flow["jobs"].items():
            for step in job.get("steps", []):
                run = step.get("run")
                if not run:
                    continue
                env = _env(flow.get("env"), job.get("env"), step.get("env"))
                for found in COMMAND.finditer(run):
                    line = VARIABLE.sub(lambda m, env=env: env.get(m[1], m[0]), found[1])
                    yield f"{path.name}:{job_name}:{step.get('name', '')}", shlex.split(line)


def parse(argv: list[str]) -> click.Context:
    """Parse like `stageline ARGV` down to the command, without running it."""
    command: click.Command = cli
    parent = cli.make_context("stageline", [], resilient_parsing=True)
    name, rest = "stageline", list(argv)
    while isinstance(command, click.Group):
        name, rest = rest[0], rest[1:]
        found = command.get_command(parent, name)
        assert found is not None, f"no command {name!r}"
        command = found
        if isinstance(command, click.Group):
            parent = command.make_context(name, [], parent=parent, resilient_parsing=True)
    return command.make_context(name, rest, parent=parent)


def test_there_are_commands_to_check() -> None:
    seen = {" ".join(argv[:2]) for _, argv in commands()}
    assert {"preview --all", "ci comment", "ci up", "ci down", "ci gc", "up dev"} <= seen, seen
    assert {"promote test", "dr drill", "dr failover"} <= seen, seen


@pytest.mark.parametrize(("where", "argv"), list(commands()), ids=lambda v: str(v))
def test_the_cli_accepts_each_workflow_command(where: str, argv: list[str]) -> None:
    ctx = parse(argv)
    assert ctx.command.callback is not None, where
    stages = {s.name for s in list_stack_files(ROOT / "stacks")}
    stage = ctx.params.get("stage")
    assert stage is None or stage in stages, f"{where}: unknown stage {stage}"


def test_deploy_promotes_along_the_stage_graph() -> None:
    flow = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    stacks = {s.name: stage_keys(s.values) for s in list_stack_files(ROOT / "stacks")}
    jobs = {name: job for name, job in flow["jobs"].items() if name != "preview"}
    assert set(jobs) == {"dev", "test", "qa", "staging", "prod"}
    for name, job in jobs.items():
        assert job["environment"] == name, name
        upstream = stacks[name].promotes_from
        assert job["needs"] == (upstream or "preview"), f"{name} must run after {upstream}"
        runs = " ".join(step.get("run", "") for step in job["steps"])
        assert "--approved-report preview.json" in runs, name
    # prod is production: its environment is the one with required reviewers.
    assert stacks["prod"].tier_name == "production"


def test_the_operator_stack_manifest_runs_a_stage_on_a_shared_backend() -> None:
    documents = list(yaml.safe_load_all(OPERATOR_MANIFEST.read_text()))
    by_kind = {d["kind"]: d for d in documents}
    manifest = by_kind["Stack"]
    assert manifest["apiVersion"] == "pulumi.com/v1"
    spec = manifest["spec"]
    stacks = {s.name: stage_keys(s.values) for s in list_stack_files(ROOT / "stacks")}
    assert spec["stack"] in stacks
    # The workspace pod's account is shipped, and may ask the API server to review tokens.
    account = by_kind["ServiceAccount"]["metadata"]
    assert (account["name"], account["namespace"]) == (
        spec["serviceAccountName"],
        manifest["metadata"]["namespace"],
    )
    binding = by_kind["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == "system:auth-delegator"
    assert binding["subjects"] == [{"kind": "ServiceAccount", **account}]
    assert spec["backend"].startswith("s3://"), "a shared DIY backend, never a local folder"
    assert spec["envRefs"]["PULUMI_CONFIG_PASSPHRASE"]["type"] == "Secret"
    assert spec["destroyOnFinalize"] is False, "deleting the manifest must not destroy a stage"
    assert spec["refresh"] is True and spec["branch"] == "main"
    assert stacks[spec["stack"]].tier_name != "production", "production promotes with approval"


def test_pulumi_install_on_a_runner_installs_the_operator_stages_target() -> None:
    # Pulumi.yaml's pip toolchain: `pulumi install` (the operator's workspace runs it) installs
    # only what requirements.txt lists, so the project and its target's SDK must be there.
    runtime = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]
    assert runtime["options"]["toolchain"] == "pip"
    (manifest,) = [
        d for d in yaml.safe_load_all(OPERATOR_MANIFEST.read_text()) if d["kind"] == "Stack"
    ]
    stage = manifest["spec"]["stack"]
    target = stage_keys(read_stack_file(ROOT / "stacks" / f"Pulumi.{stage}.yaml").values).target
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    wanted = [line for line in lines if line.strip() and not line.startswith("#")]
    assert wanted == [f".[{target}]"], wanted
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert target in extras["optional-dependencies"]
