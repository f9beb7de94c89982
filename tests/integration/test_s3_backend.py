"""A shared DIY backend for real: the engine keeps state in S3, here moto's S3 server on
loopback (started by the `s3_backend` fixture), as a team's bucket would. The stacks run the
provider-free environment (tests/integration/environment.py)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import edit_stack_file
from tests.integration.conftest import Run, wait_for_lock

pytestmark = pytest.mark.integration

BUCKET = "stageline-state"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_backend(
    moto_s3: str, project_dir: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    """A fresh bucket for the test, and the project pointed at it."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "stageline-test",
        "AWS_SECRET_ACCESS_KEY": "stageline-test",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MOTO_ENDPOINT", f"http://{moto_s3}")
    bucket = f"{BUCKET}-{abs(hash(request.node.name)) % 10**8}"
    s3().create_bucket(Bucket=bucket)
    url = f"s3://{bucket}?endpoint={moto_s3}&s3ForcePathStyle=true&disableSSL=true&region=us-east-1"
    monkeypatch.setenv("STAGELINE_BACKEND_URL", url)
    # The provider-free environment serves no app to verify.
    edit_stack_file(project_dir / "stacks/Pulumi.test.yaml", {"gates": {"verify": False}})
    return bucket


def s3():  # type: ignore[no-untyped-def]
    # Only ever the loopback server: without its endpoint the client would go to AWS.
    endpoint = os.environ["MOTO_ENDPOINT"]
    assert endpoint.startswith("http://127.0.0.1:"), endpoint
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="stageline-test",
        aws_secret_access_key="stageline-test",
    )


def keys(bucket: str) -> set[str]:
    pages = s3().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def ok(result):  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return result


def test_deploy_promote_and_read_outputs(run: Run, s3_backend: str, state_dir: Path) -> None:
    ok(run("up", "dev"))
    ok(run("promote", "test", "--yes"))
    outputs = json.loads(ok(run("outputs", "test")).output)
    assert outputs["stage"] == "test" and outputs["release"]["appVersion"] == "1.0.0"
    stored = keys(s3_backend)
    assert {".pulumi/stacks/stageline/dev.json", ".pulumi/stacks/stageline/test.json"} <= stored
    assert any(k.startswith(".pulumi/history/stageline/test/") for k in stored), stored
    body = s3().get_object(Bucket=s3_backend, Key=".pulumi/stacks/stageline/test.json")["Body"]
    state = json.loads(body.read())
    urns = [r["urn"] for r in state["checkpoint"]["latest"]["resources"]]
    assert any(u.endswith("::test-data") for u in urns), urns
    assert not any(state_dir.iterdir()), "nothing may be written to the local state folder"
    (record,) = json.loads(ok(run("history", "test", "--format", "json")).output)
    assert record["from_stage"] == "dev"


SLOW_UP = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from click.testing import CliRunner
    from stageline.cli.context import CliContext
    from stageline.cli.main import cli
    from stageline.workspace import Project
    from tests.integration.environment import make_environment

    project, delay = Path(sys.argv[1]), float(sys.argv[2])
    obj = CliContext(Project(project, make_environment(delay_seconds=delay)))
    result = CliRunner().invoke(cli, ["up", "dev"], obj=obj)
    print(result.output)
    sys.exit(result.exit_code)
    """
)


def test_two_clones_updating_at_once_get_one_lock_error(
    run: Run, s3_backend: str, project_dir: Path, tmp_path: Path
) -> None:
    ok(run("up", "dev"))
    clones = []
    for name in ("clone-a", "clone-b"):
        clone = tmp_path / name
        shutil.copytree(project_dir, clone)
        clones.append(clone)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def start(clone: Path, delay: float) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", SLOW_UP, str(clone), str(delay)],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    first = start(clones[0], 20)
    # The second starts once the first holds the stack's lock in the bucket.
    wait_for_lock(
        lambda: any(k.startswith(".pulumi/locks/") for k in keys(s3_backend)),
        lambda: first.poll() is None,
        lambda: first.communicate()[0],
        timeout=60,
    )
    second = start(clones[1], 0)
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
    codes = [first.returncode, second.returncode]
    locked = [o for o in outputs if "is locked by another update" in o]
    assert len(locked) == 1, outputs
    assert codes == [0, 1], outputs
    assert "stageline cancel dev" in locked[0]
    # The state is intact: a third update finds nothing to change.
    again = ok(run("up", "dev"))
    assert "dev: 3 same" in again.output, again.output
    assert not any(k.startswith(".pulumi/locks/") for k in keys(s3_backend))


def test_the_default_passphrase_is_refused_on_a_shared_backend(
    run: Run, s3_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = keys(s3_backend)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    refused = run("up", "dev")
    assert refused.exit_code == 1
    assert "is shared, and the default passphrase would leave its secrets" in refused.output
    assert "PULUMI_CONFIG_PASSPHRASE" in refused.output
    assert "Traceback" not in refused.output
    assert keys(s3_backend) == before, "nothing may reach the bucket"
