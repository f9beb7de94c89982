"""The script that installs a release on a scale-set instance. Imports no Azure SDK.

A VM extension (CustomScript) runs it on every instance when it is created and again whenever
its settings change, that is on every release: custom data would reach only instances created
after the release. The script writes a systemd unit, so that each boot fetches the database
password from Key Vault with the scale set's identity and runs the container with it.
"""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass

from components.compute import APP_ENV_FILE
from components.container import append_password, docker_run, env_file_folder, write_env_file

UNIT = "stageline-app"
CONTAINER = "stageline-app"
LOG_FACILITY = "local0"
"""Syslog facility the container logs to; the data collection rule collects exactly this one."""
LOG_TAG = "stageline-app"
ENV_FETCHER = "/usr/local/sbin/stageline-app-env"
KEY_VAULT_RESOURCE = "https://vault.azure.net"
KEY_VAULT_API = "7.4"
IMDS_TOKEN = "http://169.254.169.254/metadata/identity/oauth2/token"
RELEASE_TAG = "stageline-release"
"""The tag the environment sets to the release on every resource."""
READY_SECONDS = 600
"""How long the script waits for the app port before it fails, which fails the rolling batch."""


@dataclass(frozen=True)
class SecretSource:
    """Where the boot fetches the database password from."""

    secret_url: str
    """The Key Vault secret's URL without a version, so a new value is read on the next boot."""
    identity_id: str
    """Resource ID of the user-assigned identity the IMDS token is requested for."""


def release_script(
    artifact: str, app_port: int, environment: dict[str, str], secret: SecretSource | None
) -> str:
    """Bash run as root by the CustomScript extension; idempotent, so a rerun is a redeploy."""
    q = shlex.quote
    fetch = [
        "#!/bin/bash",
        "# Writes the app's environment file (mode 0600); the password comes from Key Vault.",
        "set -euo pipefail",
        "umask 077",
        f"install -d -m 0700 {env_file_folder()}",
        f"tmp=$(mktemp {q(APP_ENV_FILE)}.XXXXXX)",
        write_env_file(dict(sorted(environment.items())), '"$tmp"'),
    ]
    if secret is not None:
        fetch += [
            # Role assignments take minutes to reach Key Vault after the identity is created:
            # retry rather than fail the first boot.
            "for attempt in $(seq 1 60); do",
            "  token=$(curl -sfG -H Metadata:true --data-urlencode api-version=2018-02-01 \\",
            f"    --data-urlencode resource={KEY_VAULT_RESOURCE} \\",
            f"    --data-urlencode mi_res_id={q(secret.identity_id)} {IMDS_TOKEN} \\",
            "    | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])') &&",
            '  password=$(curl -sfG -H "Authorization: Bearer $token" \\',
            f"    --data-urlencode api-version={KEY_VAULT_API} {q(secret.secret_url)} \\",
            "    | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"value\"])') && break",
            '  echo "key vault not reachable yet (attempt $attempt)" >&2; sleep 10',
            "done",
            '[ -n "${password:-}" ] || { echo "no database password from key vault" >&2; exit 1; }',
            append_password("password", '"$tmp"'),
        ]
    fetch.append(f'mv -f "$tmp" {q(APP_ENV_FILE)}')

    unit = "\n".join(
        [
            "[Unit]",
            "Description=stageline application",
            "After=docker.service network-online.target",
            "Requires=docker.service",
            "StartLimitIntervalSec=0",
            "[Service]",
            "Restart=always",
            "RestartSec=10",
            f"ExecStartPre={ENV_FETCHER}",
            f"ExecStartPre=-/usr/bin/docker rm -f {CONTAINER}",
            f"ExecStartPre=/usr/bin/docker pull {q(artifact)}",
            "ExecStart="
            + docker_run(
                artifact,
                app_port,
                log_options=[
                    "--log-driver=syslog",
                    f"--log-opt syslog-facility={LOG_FACILITY}",
                    f"--log-opt tag={LOG_TAG}",
                ],
                supervised=True,
                name=CONTAINER,
                docker="/usr/bin/docker",
            ),
            f"ExecStop=/usr/bin/docker stop {CONTAINER}",
            "[Install]",
            "WantedBy=multi-user.target",
        ]
    )
    script = [
        "#!/bin/bash",
        "set -euo pipefail",
        # The first run may start before the NAT path answers: retry the package install.
        "if ! command -v docker >/dev/null; then",
        "  for attempt in $(seq 1 30); do",
        "    apt-get update && apt-get install -y docker.io && break",
        "    sleep 10",
        "  done",
        "fi",
        "systemctl enable --now docker",
        f"cat > {ENV_FETCHER} <<'FETCH'\n" + "\n".join(fetch) + "\nFETCH",
        f"chmod 0700 {ENV_FETCHER}",
        f"cat > /etc/systemd/system/{UNIT}.service <<'UNIT'\n{unit}\nUNIT",
        "systemctl daemon-reload",
        f"systemctl enable {UNIT}",
        f"systemctl restart {UNIT}",
        # Succeed only once the app listens: the rolling upgrade then moves to the next batch.
        f"for attempt in $(seq 1 {READY_SECONDS // 5}); do",
        f"  (exec 3<>/dev/tcp/127.0.0.1/{app_port}) 2>/dev/null && exit 0",
        "  sleep 5",
        "done",
        f'echo "the application did not listen on {app_port}" >&2',
        "exit 1",
    ]
    return "\n".join(script) + "\n"


def encoded(script: str) -> str:
    """CustomScript's `script` setting takes the script base64-encoded."""
    return base64.b64encode(script.encode()).decode()


def without_release(tags: dict[str, str]) -> dict[str, str]:
    """Tags that do not change on every release, for resources a release must not update."""
    return {k: v for k, v in tags.items() if k != RELEASE_TAG}
