"""The instances' first-boot script: install docker, write the app's environment, run the release.

Nothing secret is in it. The database password is fetched from Secrets Manager at boot by the
instance role, and only ever written to the 0600 environment file docker reads.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from components.compute import APP_ENV_FILE
from components.container import (
    APP_CONTAINER,
    append_password,
    docker_run,
    env_file_folder,
    retry_function,
    write_env_file,
)

ATTEMPTS = 8
"""Tries per step before the boot fails: 5 s doubling to at most 60 s, about 5 minutes in all."""

# First boot can beat its dependencies: the NAT route, the registry, the Secrets Manager and
# CloudWatch Logs endpoints. Each network step is retried with backoff, and gives up (failing
# the boot loudly) instead of hanging forever.
_RETRY = retry_function(ATTEMPTS, first_delay=5)

# IMDSv2 only (the launch template requires tokens).
_IMDS = """imds() {
  local token
  token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token \\
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 300') || return 1
  curl -sf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}"""


@dataclass(frozen=True)
class BootSettings:
    artifact: str
    """Container image of the release."""
    app_port: int
    """Port the container listens on and publishes."""
    log_group: str
    """CloudWatch log group the container's output goes to (awslogs driver)."""
    environment: Mapping[str, str]
    """The application's variables except the password (`app_environment`)."""
    password_secret_arn: str | None = None
    """Secrets Manager secret holding the database password; none when nothing is wired."""
    password_version: str | None = None
    """The secret's current version id. Instances read the password once, at boot: naming the
    version makes a new password a new launch template version, which the group rolls out."""


def boot_script(s: BootSettings) -> str:
    image = shlex.quote(s.artifact)
    password = (
        [
            f"# database password version: {s.password_version or 'unknown'}",
            f"DB_PASSWORD=$(retry aws secretsmanager get-secret-value "
            f"--secret-id {shlex.quote(s.password_secret_arn)} "
            "--query SecretString --output text)",
            append_password("DB_PASSWORD", APP_ENV_FILE),
            "unset DB_PASSWORD",
        ]
        if s.password_secret_arn
        else []
    )
    run = docker_run(
        s.artifact,
        s.app_port,
        log_options=[
            "--log-driver awslogs",
            '--log-opt awslogs-region="$REGION"',
            f"--log-opt awslogs-group={shlex.quote(s.log_group)}",
            '--log-opt awslogs-stream="$INSTANCE_ID"',
        ],
    )
    return "\n".join(
        [
            "#!/bin/bash",
            "set -euo pipefail",
            _RETRY,
            _IMDS,
            "REGION=$(retry imds placement/region)",
            "INSTANCE_ID=$(retry imds instance-id)",
            'export AWS_DEFAULT_REGION="$REGION"',
            "retry dnf install -y docker",
            "systemctl enable --now docker",
            f"install -d -m 0700 {env_file_folder()}",
            "umask 077",
            # Quoted delimiter: the values are written as they are, never expanded by the shell.
            write_env_file(s.environment, APP_ENV_FILE),
            # The SDK in the container finds the role's credentials through IMDS, not its region.
            f"printf 'AWS_REGION=%s\\n' \"$REGION\" >> {APP_ENV_FILE}",
            *password,
            f"chmod 0600 {APP_ENV_FILE}",
            f"retry docker pull {image}",
            # A failed start (e.g. the log group not there yet) leaves a created container behind;
            # remove it so that the next try can reuse the name.
            f"start_app() {{\n  docker rm -f {APP_CONTAINER} >/dev/null 2>&1 || true\n  {run}\n}}",
            "retry start_app",
        ]
    )
