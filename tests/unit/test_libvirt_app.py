"""The application VMs on libvirt get their database and bucket, the password only in secrets."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.compute import (
    APP_ENV_BUCKET,
    APP_ENV_DATABASE_HOST,
    APP_ENV_DATABASE_NAME,
    APP_ENV_DATABASE_PASSWORD,
    APP_ENV_DATABASE_PORT,
    APP_ENV_DATABASE_SSLMODE,
    APP_ENV_DATABASE_USER,
    APP_ENV_FILE,
    APP_ENV_PORT,
    AppConnection,
)
from components.container import env_file_text
from components.libvirt.compute import LibvirtCompute
from components.libvirt.settings import LibvirtSettings
from components.libvirt.site import LibvirtSite, SiteArgs
from stageline.plan.mocks import PlanMocks
from stageline.plan.recorder import PlannedResource, RecordingMonitor
from stageline.plan.runner import StagePlan, unwrap_secrets
from stageline.stack_files import SECRET_PLACEHOLDER
from tests.unit.args import compute_args
from tests.unit.recording import after_registration, program_test

PASSWORD = "pw-Zq9-never-in-plain"
# Shell metacharacters: unquoted, the boot shell would run the second half.
ARTIFACT = "ghcr.io/acme/shop:1.0.0;touch /pwned"


@pytest.fixture
def monitor() -> RecordingMonitor:
    recorder = RecordingMonitor(PlanMocks())
    pulumi.runtime.set_mocks(
        PlanMocks(), project="stageline", stack="unit", preview=False, monitor=recorder
    )
    return recorder


def _compute(app: AppConnection | None) -> LibvirtCompute:
    site = LibvirtSite(
        "s-site",
        SiteArgs(stack="s", settings=LibvirtSettings(base_image="/nonexistent/base.qcow2")),
    )
    common = compute_args(
        size="xsmall",
        min_count=2,
        max_count=2,
        network_id="s-net",
        subnet_ids=["s-net"],
        ingress_cidr="10.9.0.0/24",
        artifact=ARTIFACT,
        app_port=8080,
        app=app,
    )
    return LibvirtCompute("s-compute", common, site=site)


APP = AppConnection(
    database_host=pulumi.Output.from_input("s-db-0"),
    database_port=pulumi.Output.from_input(5432),
    database_name="app",
    database_user="stageline",
    database_password=pulumi.Output.secret(PASSWORD),
    database_id="uuid-of-db",
    bucket_name=pulumi.Output.from_input("s-data"),
    bucket_id="uuid-of-pool",
)


def seeds_of(resources: list[PlannedResource], prefix: str) -> list[PlannedResource]:
    return [r for r in resources if r.name.startswith(prefix) and r.name.endswith("-cidata")]


def cloud_config(seed: PlannedResource) -> dict[str, Any]:
    text = unwrap_secrets(seed.inputs["cloudInit"])["userData"]
    assert text.startswith("#cloud-config\n"), seed.urn
    return json.loads(text.removeprefix("#cloud-config\n"))


def plain_leaks(value: Any, needle: str, where: str = "") -> list[str]:
    """Paths at which `needle` appears outside any secret."""
    if rpc.is_rpc_secret(value):
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in plain_leaks(v, needle, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in plain_leaks(v, needle, f"{where}[{i}]")]
    return [where] if isinstance(value, str) and needle in value else []


@program_test
def test_app_seed_writes_the_env_file_and_runs_with_it(monitor: RecordingMonitor):
    compute = _compute(APP)

    def check(_: Any) -> None:
        seeds = seeds_of(monitor.planned, "s-compute-")
        assert len(seeds) == 2, [r.urn for r in monitor.planned]
        for seed in seeds:
            assert rpc.is_rpc_secret(seed.inputs["cloudInit"]), f"{seed.urn}: seed not secret"
            config = cloud_config(seed)
            files = [f for f in config["write_files"] if f["path"] == APP_ENV_FILE]
            assert len(files) == 1, f"{seed.urn}: {config['write_files']}"
            assert files[0]["permissions"] == "0600", seed.urn
            assert files[0]["owner"] == "root:root", seed.urn
            lines = files[0]["content"].splitlines()
            assert dict(line.split("=", 1) for line in lines) == {
                APP_ENV_PORT: "8080",
                APP_ENV_DATABASE_HOST: "s-db-0",
                APP_ENV_DATABASE_PORT: "5432",
                APP_ENV_DATABASE_NAME: "app",
                APP_ENV_DATABASE_USER: "stageline",
                APP_ENV_DATABASE_SSLMODE: "require",
                APP_ENV_DATABASE_PASSWORD: PASSWORD,
                APP_ENV_BUCKET: "s-data",
            }, seed.urn
            # An image release runs as a systemd unit around `podman run`.
            (unit,) = [f for f in config["write_files"] if f["path"].endswith(".service")]
            (start,) = [x for x in unit["content"].splitlines() if x.startswith("ExecStart=")]
            argv = shlex.split(start.removeprefix("ExecStart="))
            assert argv[:2] == ["/usr/bin/podman", "run"], f"{seed.urn}: {argv}"
            # The artifact is one quoted word, the last: nothing after it reaches the shell.
            assert argv[-3:] == ["--env-file", APP_ENV_FILE, ARTIFACT], f"{seed.urn}: {argv}"
            assert PASSWORD not in unit["content"], seed.urn
            assert f"EnvironmentFile={APP_ENV_FILE}" in unit["content"], seed.urn

    return pulumi.Output.all(*[d.urn for d in compute.domains]).apply(after_registration(check))


@program_test
def test_password_is_in_no_plain_input_of_any_resource(monitor: RecordingMonitor):
    compute = _compute(APP)

    def check(_: Any) -> None:
        carriers = [
            r.urn for r in monitor.planned if PASSWORD in json.dumps(unwrap_secrets(r.inputs))
        ]
        assert carriers, "the password reaches no resource: the app would not get it"
        for resource in monitor.planned:
            leaks = plain_leaks(resource.inputs, PASSWORD)
            assert not leaks, f"{resource.urn}: password in plain input at {leaks}"

    return pulumi.Output.all(*[d.urn for d in compute.domains]).apply(after_registration(check))


@program_test
def test_without_a_connection_only_the_port_is_set(monitor: RecordingMonitor):
    compute = _compute(None)

    def check(_: Any) -> None:
        for seed in seeds_of(monitor.planned, "s-compute-"):
            (env,) = [f for f in cloud_config(seed)["write_files"] if f["path"] == APP_ENV_FILE]
            assert env["content"] == f"{APP_ENV_PORT}=8080\n", seed.urn

    return pulumi.Output.all(*[d.urn for d in compute.domains]).apply(after_registration(check))


def test_env_file_refuses_a_line_break_without_showing_the_value() -> None:
    with pytest.raises(ValueError, match=APP_ENV_DATABASE_PASSWORD) as caught:
        env_file_text({APP_ENV_DATABASE_PASSWORD: "secret\nINJECTED=1"})
    assert "secret" not in str(caught.value).replace(APP_ENV_DATABASE_PASSWORD, "")


def test_whole_stage_keeps_the_password_secret(plan_edited: Callable[..., StagePlan]) -> None:
    # A stack-file secret reaches the program as SECRET_PLACEHOLDER, wrapped as a secret.
    plan = plan_edited("local", {"local": {"dbPassword": {"secure": "v1:c2VjcmV0"}}})
    assert plan.ok, plan.error
    app_seeds = seeds_of(plan.resources, "local-compute-")
    assert app_seeds, [r.urn for r in plan.resources]
    for seed in app_seeds:
        (env,) = [f for f in cloud_config(seed)["write_files"] if f["path"] == APP_ENV_FILE]
        assert f"{APP_ENV_DATABASE_PASSWORD}={SECRET_PLACEHOLDER}\n" in env["content"], seed.urn
        # The database has a fixed lease, the network's second address (local: 192.168.150.0/24).
        assert f"{APP_ENV_DATABASE_HOST}=192.168.150.2\n" in env["content"], seed.urn
        assert f"{APP_ENV_BUCKET}=local-data\n" in env["content"], seed.urn
    for resource in plan.resources:
        leaks = plain_leaks(resource.inputs, SECRET_PLACEHOLDER)
        assert not leaks, f"{resource.urn}: password in plain input at {leaks}"
