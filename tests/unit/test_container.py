"""The release's container is started the same way on every target (components/container.py).

Each target's own script is built here with an artifact that would run a second command if it
reached the shell unquoted, and its `docker run` line is split as the shell splits it.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from components.aws.boot import BootSettings, boot_script
from components.azure.release import release_script
from components.compute import APP_ENV_DATABASE_PASSWORD, APP_ENV_FILE, APP_ENV_PORT
from components.container import (
    RETRY_MAX_DELAY_SECONDS,
    append_password,
    docker_run,
    env_file_text,
    retry_function,
    write_env_file,
)
from components.gcp.boot import startup_script
from components.libvirt.compute import app_user_data

# The boot scripts are bash; stageline's own scripts need it too, so its absence fails.
BASH = "bash"
HOSTILE = "registry/app:1.0;touch /tmp/pwned"
"""An artifact the shell would run as two commands if it were not quoted."""
ENV = {APP_ENV_PORT: "8080", "DATABASE_HOST": "db.internal"}


def _aws(artifact: str, env: dict[str, str]) -> str:
    return boot_script(BootSettings(artifact, 8080, "/stageline/s/app", env))


def _gcp(artifact: str, env: dict[str, str]) -> str:
    return startup_script(artifact, 8080, env, None)


def _azure(artifact: str, env: dict[str, str]) -> str:
    return release_script(artifact, 8080, env, None)


def _libvirt(artifact: str, env: dict[str, str]) -> str:
    # An image release runs as a systemd unit around `podman run`.
    body = json.loads(app_user_data("h", "", artifact, None, 8080, env).split("\n", 1)[1])
    return next(f["content"] for f in body["write_files"] if f["path"].endswith(".service"))


TARGETS: dict[str, Callable[[str, dict[str, str]], str]] = {
    "aws": _aws,
    "gcp": _gcp,
    "azure": _azure,
    "libvirt": _libvirt,
}


def _run_words(script: str) -> list[str]:
    (line,) = [x for x in script.splitlines() if "docker run" in x or "podman run" in x]
    return shlex.split(line.strip().removeprefix("ExecStart="))


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_passes_the_artifact_as_one_last_word(target: str) -> None:
    words = _run_words(TARGETS[target](HOSTILE, ENV))
    assert words[-1] == HOSTILE, f"{target}: {words}"
    assert words[-3:-1] == ["--env-file", APP_ENV_FILE], f"{target}: {words}"
    assert words[-5:-3] == ["-p", "8080:8080"], f"{target}: {words}"
    assert "--name" in words, f"{target}: the container has no name to replace it by: {words}"


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_refuses_a_value_with_a_line_break(target: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_HOST holds a line break") as raised:
        TARGETS[target]("registry/app:1.0", {**ENV, "DATABASE_HOST": "db\rINJECTED=1"})
    assert "INJECTED" not in str(raised.value), target


def test_the_run_line_is_the_shared_one_with_the_targets_log_options() -> None:
    assert docker_run("a:1", 80, log_options=["--log-driver=x"]) == (
        "docker run -d --name app --restart=always --log-driver=x -p 80:80 "
        f"--env-file {APP_ENV_FILE} a:1"
    )
    assert docker_run("a:1", 80, supervised=True, name="svc", docker="/usr/bin/docker") == (
        f"/usr/bin/docker run --rm --name svc -p 80:80 --env-file {APP_ENV_FILE} a:1"
    )


def test_env_file_text_is_one_line_a_variable() -> None:
    assert env_file_text({"A": "1", "B": "x=y z"}) == "A=1\nB=x=y z\n"
    assert env_file_text({}) == ""


def test_bash_writes_the_values_literally_and_appends_the_password(tmp_path: Path) -> None:
    target = tmp_path / "app.env"
    values = {"A": "$HOME `id` $(id) 'q' \"d\" \\", "B": "STAGELINE_ENV"}
    script = "\n".join(
        [
            "set -eu",
            write_env_file(values, shlex.quote(str(target))),
            "secret='pa$$ word'",
            append_password("secret", shlex.quote(str(target))),
        ]
    )
    result = subprocess.run([BASH, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert target.read_text() == env_file_text(values) + f"{APP_ENV_DATABASE_PASSWORD}=pa$$ word\n"


def _bash(*lines: str) -> subprocess.CompletedProcess[str]:
    """Run `lines` as one bash script; `sleep` is redefined by the callers, so it is quick."""
    return subprocess.run(
        [BASH, "-c", "\n".join(lines)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(("attempts", "first_delay"), [(8, 5), (10, 2), (3, 90)])
def test_the_shared_retry_gives_up_after_its_attempts_with_capped_doubling_waits(
    attempts: int, first_delay: int
) -> None:
    # `sleep` records its wait instead of waiting; the command always fails.
    result = _bash(
        retry_function(attempts, first_delay),
        'sleep() { echo "slept $1"; }',
        "calls=0",
        "fail() { calls=$((calls + 1)); return 1; }",
        'retry fail --token=hunter2 && echo succeeded || echo "gave up after $calls"',
    )
    lines = result.stdout.splitlines()
    assert lines[-1] == f"gave up after {attempts}", result.stdout + result.stderr
    waits = [int(line.split()[1]) for line in lines if line.startswith("slept")]
    expected = [min(first_delay * 2**i, RETRY_MAX_DELAY_SECONDS) for i in range(attempts - 1)]
    if first_delay > RETRY_MAX_DELAY_SECONDS:
        # The first wait is as given; only the doubling is capped.
        expected[0] = first_delay
    assert waits == expected, result.stdout
    assert "giving up after" in result.stderr and "fail" in result.stderr, result.stderr
    assert "hunter2" not in result.stderr, "a command's arguments may name a secret"


def test_the_shared_retry_stops_at_the_first_success_under_set_e() -> None:
    result = _bash(
        "set -euo pipefail",
        retry_function(5, 1),
        "sleep() { :; }",
        "calls=0",
        "third() { calls=$((calls + 1)); [ $calls -ge 3 ]; }",
        "retry third",
        'echo "ok after $calls"',
    )
    assert result.stdout.strip() == "ok after 3", result.stdout + result.stderr
