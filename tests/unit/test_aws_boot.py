"""The AWS boot script, checked by bash itself: syntax, and bounded retries with backoff."""

from __future__ import annotations

import subprocess

import pytest

from components.aws.boot import ATTEMPTS, BootSettings, boot_script

# The boot scripts are bash; stageline's own scripts need it too, so its absence fails.
BASH = "bash"

SETTINGS = BootSettings(
    artifact="ghcr.io/acme/shop:1.0.0",
    app_port=8080,
    log_group="/stageline/dev/app",
    environment={"PORT": "8080", "DATABASE_HOST": "db.example", "BUCKET_NAME": "b"},
    password_secret_arn="arn:aws:secretsmanager:us-east-2:111122223333:secret:x-AbCdEf",
)


def _bash(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BASH, "-c", script], capture_output=True, text=True, timeout=30)


def test_boot_script_is_valid_bash() -> None:
    result = subprocess.run(
        [BASH, "-n"], input=boot_script(SETTINGS), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "step",
    [
        "retry dnf install -y docker",
        "retry docker pull ghcr.io/acme/shop:1.0.0",
        "retry start_app",
        "$(retry aws secretsmanager get-secret-value",
    ],
)
def test_network_steps_are_retried(step: str) -> None:
    assert step in boot_script(SETTINGS)


def _retry_function() -> str:
    script = boot_script(SETTINGS)
    start = script.index("retry() {")
    return script[start : script.index("\n}", start) + 2]


def test_retry_gives_up_after_a_bounded_number_of_attempts_with_backoff() -> None:
    # `sleep` records its delay instead of waiting; the command always fails.
    probe = (
        _retry_function()
        + '\nsleep() { echo "slept $1"; }\ncalls=0\nfail() { calls=$((calls + 1)); return 1; }\n'
        + 'retry fail && echo "succeeded" || echo "gave up after $calls"'
    )
    result = _bash(probe)
    lines = result.stdout.splitlines()
    assert lines[-1] == f"gave up after {ATTEMPTS}", result.stdout + result.stderr
    delays = [int(line.split()[1]) for line in lines if line.startswith("slept")]
    assert delays == sorted(delays) and delays[0] < delays[-1] <= 60, delays
    assert len(delays) == ATTEMPTS - 1, delays


def test_retry_returns_once_the_command_succeeds() -> None:
    probe = (
        _retry_function()
        + "\nsleep() { :; }\ncalls=0\n"
        + "third() { calls=$((calls + 1)); [ $calls -ge 3 ]; }\n"
        + 'retry third && echo "ok after $calls"'
    )
    assert _bash(probe).stdout.strip() == "ok after 3"


def test_environment_values_cannot_inject_lines() -> None:
    bad = BootSettings(**{**SETTINGS.__dict__, "environment": {"DATABASE_HOST": "x\nEVIL=1"}})
    with pytest.raises(ValueError, match="single lines"):
        boot_script(bad)
