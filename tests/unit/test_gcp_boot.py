"""The GCP startup script, run by bash against stand-ins for curl, docker and sleep: it fetches
the password from Secret Manager with the metadata server's token, writes the environment file
with mode 0600, retries what first boot can race (grants, Cloud NAT) a bounded number of times,
and runs the container with --env-file."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from pathlib import Path

import pytest

from components.compute import APP_ENV_FILE
from components.gcp.boot import RETRY_ATTEMPTS, startup_script

PASSWORD = "s3cret-#$pw=!"
VERSION = "projects/123/secrets/shop-compute-db-password/versions/2"
ARTIFACT = "europe-docker.pkg.dev/p/r/app:2.0.0"

# Each stand-in fails its first N calls (a counter file per command), then answers as the
# real service does; Google's JSON is pretty-printed, with spaces after the colons.
CURL = """#!/bin/bash
case "$*" in
  *metadata.google.internal*token*)
    printf '{"access_token": "ya29.tok", "expires_in": 3599, "token_type": "Bearer"}' ;;
  *"Authorization: Bearer ya29.tok"*secretmanager.googleapis.com/v1/%(version)s:access*)
    n=$(cat "$STUB/secret.count" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB/secret.count"
    if [ "$n" -lt "$CURL_FAILS" ]; then echo "403" >&2; exit 22; fi
    printf '{\\n  "name": "%(version)s",\\n  "payload": {\\n'
    printf '    "data": "%(data)s",\\n    "dataCrc32c": "1"\\n  }\\n}\\n' ;;
  *) exit 7 ;;
esac
"""
DOCKER = """#!/bin/bash
echo "$*" >> "$STUB/docker.log"
if [ "$1" = pull ]; then
  n=$(cat "$STUB/pull.count" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB/pull.count"
  if [ "$n" -lt "$PULL_FAILS" ]; then exit 1; fi
fi
exit 0
"""
SLEEP = """#!/bin/bash
echo "$1" >> "$STUB/sleep.log"
"""


def _run(tmp_path: Path, curl_fails: int, pull_fails: int) -> subprocess.CompletedProcess[str]:
    stub = tmp_path / "bin"
    stub.mkdir()
    data = base64.b64encode(PASSWORD.encode()).decode()
    for name, body in (
        ("curl", CURL % {"version": VERSION, "data": data}),
        ("docker", DOCKER),
        ("sleep", SLEEP),
    ):
        (stub / name).write_text(body)
        (stub / name).chmod(0o755)
    env_file = tmp_path / "etc" / "stageline" / "app.env"
    script = tmp_path / "startup.sh"
    script.write_text(
        startup_script(
            ARTIFACT,
            8080,
            {"PORT": "8080", "DATABASE_HOST": "10.0.0.3", "BUCKET_NAME": "shop-bucket"},
            VERSION,
            env_file=str(env_file),
        )
    )
    env = {
        "PATH": f"{stub}:{os.environ['PATH']}",
        "STUB": str(stub),
        "CURL_FAILS": str(curl_fails),
        "PULL_FAILS": str(pull_fails),
    }
    return subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, timeout=60
    )


def test_script_targets_the_shared_env_file() -> None:
    assert f"--env-file {APP_ENV_FILE}" in startup_script(ARTIFACT, 8080, {}, VERSION)


def test_boot_fetches_the_password_and_runs_with_an_env_file(tmp_path: Path) -> None:
    result = _run(tmp_path, curl_fails=2, pull_fails=2)
    assert result.returncode == 0, result.stderr

    env_file = tmp_path / "etc" / "stageline" / "app.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    lines = env_file.read_text().splitlines()
    assert lines == [
        "PORT=8080",
        "DATABASE_HOST=10.0.0.3",
        "BUCKET_NAME=shop-bucket",
        f"DATABASE_PASSWORD={PASSWORD}",
    ]
    docker = (tmp_path / "bin" / "docker.log").read_text().splitlines()
    assert docker.count(f"pull {ARTIFACT}") == 3, docker  # two failures, then a pull
    run = [c for c in docker if c.startswith("run ")]
    assert run == [
        f"run -d --name app --restart=always --log-driver=gcplogs "
        f"-p 8080:8080 --env-file {env_file} {ARTIFACT}"
    ], docker
    assert PASSWORD not in "\n".join(docker)
    assert PASSWORD not in result.stdout + result.stderr
    # Backoff doubles between attempts: two for the secret, then two for the pull.
    assert (tmp_path / "bin" / "sleep.log").read_text().split() == ["2", "4", "2", "4"]


@pytest.mark.parametrize(("curl_fails", "pull_fails"), [(99, 0), (0, 99)])
def test_boot_gives_up_after_bounded_retries(
    tmp_path: Path, curl_fails: int, pull_fails: int
) -> None:
    result = _run(tmp_path, curl_fails=curl_fails, pull_fails=pull_fails)
    assert result.returncode != 0
    sleeps = (tmp_path / "bin" / "sleep.log").read_text().split()
    assert len(sleeps) == RETRY_ATTEMPTS - 1, sleeps
    assert max(int(s) for s in sleeps) <= 60, sleeps
    assert (
        not (tmp_path / "bin" / "docker.log").exists()
        or "run " not in (tmp_path / "bin" / "docker.log").read_text()
    )
