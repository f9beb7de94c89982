"""The target registry: each target is one folder whose `target.py` the operator asks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

from components.places import Sites
from components.targets import (
    REGISTRY,
    Registration,
    Target,
    owner_of_type,
    process_environment,
    target_of,
)
from stageline.plan.mocks import PlanMocks

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_SDKS = ("pulumi_aws", "pulumi_azure_native", "pulumi_gcp", "libvirt", "paramiko")


def test_every_registered_target_is_the_target_its_module_defines() -> None:
    for name in REGISTRY:
        target = target_of(name)
        assert isinstance(target, Target), name
        assert target.name == name, f"{REGISTRY[name].module} defines {target.name!r}"


def test_a_broken_import_inside_a_target_is_reported_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A target whose rules module imports something that does not exist: before the registry,
    # the ModuleNotFoundError was caught and the target silently had no rules at all.
    package = tmp_path / "brokentarget"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "rules.py").write_text("from components.no_such_module import validate\n")
    (package / "target.py").write_text("from brokentarget.rules import validate\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = {"broken": Registration("brokentarget.target")}
    with pytest.raises(ModuleNotFoundError, match=r"components\.no_such_module"):
        target_of("broken", registry)


def _target_with_kit(missing: str, sdk: tuple[str, ...]) -> Target:
    return Target(name="fake", kit=missing, places=Sites(), sdk=sdk)


def test_only_a_missing_provider_sdk_gets_the_install_message() -> None:
    with pytest.raises(pulumi.RunError, match=r"pip install -e \.\[fake\]"):
        _target_with_kit("fake_provider_sdk.kit", sdk=("fake_provider_sdk",)).load_kit()
    # Any other missing module is a bug in the target, and says so.
    with pytest.raises(ModuleNotFoundError, match=r"components\.fake"):
        _target_with_kit("components.fake.kit", sdk=("fake_provider_sdk",)).load_kit()


def test_a_target_without_settings_refuses_a_section() -> None:
    (issue,) = target_of("aws").parse_settings({"region": "us-east-1"})[1]
    assert issue.key == "aws" and "no settings of its own" in issue.problem, issue.render()
    assert target_of("aws").parse_settings(None) == (None, [])


def test_relative_base_image_is_resolved_by_its_target(tmp_path: Path) -> None:
    resolve = target_of("libvirt").resolve_paths
    raw = {"uri": "qemu:///system", "baseImage": "images/base.qcow2"}
    assert resolve(raw, tmp_path) == {**raw, "baseImage": str(tmp_path / "images/base.qcow2")}
    absolute = {"baseImage": "/srv/base.qcow2"}
    assert resolve(absolute, tmp_path) is absolute
    # A cloud target has no file paths: its section comes back as it was.
    section = {"storageAccountName": "acmeshop01"}
    assert target_of("azure").resolve_paths(section, tmp_path) is section


@pytest.mark.parametrize(
    ("resource_type", "owner"),
    [
        ("aws:rds/instance:Instance", "aws"),
        ("azure-native:storage:StorageAccount", "azure"),
        ("gcp:sql/databaseInstance:DatabaseInstance", "gcp"),
        ("pulumi-python:dynamic:Resource", "libvirt"),
        ("random:index/randomString:RandomString", None),
    ],
)
def test_plan_values_come_from_the_type_s_own_target(resource_type: str, owner: str | None) -> None:
    found = owner_of_type(resource_type)
    assert (found.name if found else None) == owner


def test_plan_mocks_serve_each_target_s_computed_values() -> None:
    mocks = PlanMocks()
    args = pulumi.runtime.MockResourceArgs(
        typ="gcp:sql/databaseInstance:DatabaseInstance",
        name="pg",
        inputs={},
        provider=None,
        resource_id=None,
        custom=True,
    )
    _, state = mocks.new_resource(args)
    assert state["privateIpAddress"] == "10.0.0.3", state
    call = pulumi.runtime.MockCallArgs(
        token="azure-native:authorization:getClientConfig", args={}, provider=""
    )
    assert mocks.call(call)[0]["tenantId"] == "11111111-1111-1111-1111-111111111111"


def test_target_modules_import_no_provider_sdk() -> None:
    probe = (
        "import json, sys, importlib\n"
        f"for m in {[r.module for r in REGISTRY.values()]!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    roots = set(json.loads(out.stdout))
    assert not roots & set(PROVIDER_SDKS), roots & set(PROVIDER_SDKS)


def test_stageline_sets_what_targets_need_before_grpc_loads() -> None:
    wanted = process_environment()
    assert wanted, "no target declares a process environment"
    probe = (
        "import json, os, sys\n"
        "import stageline\n"
        f"print(json.dumps([{{k: os.environ.get(k) for k in {sorted(wanted)!r}}}, "
        "'grpc' in sys.modules]))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k not in wanted}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    values, grpc_loaded = json.loads(out.stdout)
    assert values == wanted
    assert not grpc_loaded, "stageline's first import loaded grpc before setting the environment"
