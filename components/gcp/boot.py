"""The instances' startup script: fetch the database password, write the application's
environment file, pull the release (retried) and run it. Imports no GCP SDK.

Container-Optimized OS mounts its root read-only; /etc is writable but stateless (rebuilt at
every boot), which suits a file holding a password: the script writes it anew on each boot, and
nothing of it reaches the stateful disk.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from components.compute import APP_ENV_FILE
from components.container import (
    APP_CONTAINER,
    append_password,
    docker_run,
    env_file_folder,
    retry_function,
    write_env_file,
)

METADATA_TOKEN_URL = (
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
)
SECRET_MANAGER_API = "https://secretmanager.googleapis.com/v1"
RETRY_ATTEMPTS = 10
"""Bounded: 2, 4, 8 … seconds between attempts, at most 60, about five minutes in all."""

_RETRY = retry_function(RETRY_ATTEMPTS, first_delay=2)

# Neither jq nor python is on Container-Optimized OS: the two JSON fields are cut out with sed.
_FETCH = f"""\
fetch_password() {{
  local token body data
  token=$(curl -sSf -H 'Metadata-Flavor: Google' {METADATA_TOKEN_URL} \\
    | tr -d ' \\n' | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p') || return 1
  [ -n "$token" ] || return 1
  body=$(curl -sSf -H "Authorization: Bearer $token" \\
    "{SECRET_MANAGER_API}/$SECRET_VERSION:access") || return 1
  data=$(printf '%s' "$body" | tr -d ' \\n' | sed -n 's/.*"data":"\\([^"]*\\)".*/\\1/p')
  [ -n "$data" ] || return 1
  DB_PASSWORD=$(printf '%s' "$data" | base64 -d) || return 1
}}"""


def startup_script(
    artifact: str,
    app_port: int,
    environment: Mapping[str, str],
    secret_version: str | None,
    env_file: str = APP_ENV_FILE,
) -> str:
    """The script for `artifact`, with `environment` (no secret in it) in APP_ENV_FILE.

    `secret_version` is the Secret Manager version (`projects/…/secrets/…/versions/N`) that holds
    the database password; the script reads it with the instance's service account at boot, so
    the password is never in the instance's metadata. None: no password to fetch. `env_file`
    is APP_ENV_FILE except in tests that run the script.
    """
    image = shlex.quote(artifact)
    run = docker_run(artifact, app_port, log_options=["--log-driver=gcplogs"], env_file=env_file)
    folder = env_file_folder(env_file)
    env_file = shlex.quote(env_file)
    lines = [
        "#!/bin/bash",
        "set -euo pipefail",
        _RETRY,
        "umask 077",
        f"mkdir -p {folder}",
        write_env_file(environment, env_file),
    ]
    if secret_version is not None:
        lines += [
            f"SECRET_VERSION={shlex.quote(secret_version)}",
            _FETCH,
            # IAM grants and the first token can take a while to reach a new instance.
            "retry fetch_password",
            append_password("DB_PASSWORD", env_file),
            "unset DB_PASSWORD",
        ]
    lines += [
        f"chmod 0600 {env_file}",
        # On first boot Cloud NAT may still be settling; a pull that fails is tried again.
        f"retry docker pull {image}",
        # The script runs on every boot; the container from the last one already restarts.
        f"docker rm -f {APP_CONTAINER} 2>/dev/null || true",
        run,
    ]
    return "\n".join(lines) + "\n"
