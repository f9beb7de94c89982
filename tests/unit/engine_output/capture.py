"""Capture real engine failures as fixtures for tests/unit/test_engine_errors.py.

Run from the repository root with the engine installed (scripts/setup):

    .venv/bin/python -m tests.unit.engine_output.capture

Each case drives the installed engine through the Automation API into one failure and stores
the CLI's exit code, stdout and stderr as `<case>.json`. Temporary paths are kept as they were:
the messages must carry them through.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pulumi
from pulumi import automation as auto

from stageline.engine import engine_env, install

HERE = Path(__file__).parent
PROJECT = "capture"


def main() -> int:
    report = install()
    command = auto.PulumiCommand(root=str(report.root), skip_version_check=True)
    tmp = Path(tempfile.mkdtemp(prefix="stageline-capture-"))
    state = tmp / "state"
    state.mkdir()
    # Offline on purpose: the missing-plugin case must fail fast, not download.
    env = {**engine_env(online=False), "PULUMI_CONFIG_PASSPHRASE": "capture"}

    def opts(url: str, extra: dict[str, str] | None = None) -> auto.LocalWorkspaceOptions:
        return auto.LocalWorkspaceOptions(
            work_dir=str(tmp),
            pulumi_command=command,
            env_vars={**env, "PULUMI_BACKEND_URL": url, **(extra or {})},
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python"),
        )

    def exports() -> None:
        pulumi.export("ok", True)

    def needs_aws() -> None:
        import pulumi_aws

        pulumi_aws.s3.Bucket("bucket")

    def fails() -> None:
        raise pulumi.RunError(
            "stageline:network.cidr = '10.0.0.0/33' is not a CIDR; fix: use /16-/24"
        )

    def reads_missing_upstream() -> None:
        ref = pulumi.StackReference(f"organization/{PROJECT}/nowhere")
        pulumi.export("up", ref.require_output("release"))

    url = state.as_uri()
    auto.create_or_select_stack("base", PROJECT, exports, opts=opts(url)).up()
    cases: dict[str, Callable[[], object]] = {
        "state_missing": lambda: auto.create_or_select_stack(
            "dev", PROJECT, exports, opts=opts((tmp / "absent").as_uri())
        ),
        "wrong_passphrase": lambda: auto.select_stack(
            "base", PROJECT, exports, opts=opts(url, {"PULUMI_CONFIG_PASSPHRASE": "other"})
        ).up(),
        "missing_plugin": lambda: auto.create_or_select_stack(
            "cloud", PROJECT, needs_aws, opts=opts(url)
        ).up(),
        "program_error": lambda: auto.create_or_select_stack(
            "bad", PROJECT, fails, opts=opts(url)
        ).up(),
        "missing_upstream": lambda: auto.create_or_select_stack(
            "down", PROJECT, reads_missing_upstream, opts=opts(url)
        ).up(),
    }
    for name, case in cases.items():
        try:
            case()
        except auto.CommandError as exc:
            _store(name, str(exc))
        else:
            print(f"{name}: the engine did not fail", file=sys.stderr)
            return 1
    return 0


def _store(name: str, message: str) -> None:
    # str(CommandError) is CommandResult's frame; keep its parts so tests rebuild the object.
    head, _, stderr = message.rpartition("\n stderr: ")
    code, _, stdout = head.removeprefix("\n code: ").partition("\n stdout: ")
    record = {"code": int(code), "stdout": stdout, "stderr": stderr}
    (HERE / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"{name}: {os.path.relpath(HERE / (name + '.json'))}")


if __name__ == "__main__":
    sys.exit(main())
