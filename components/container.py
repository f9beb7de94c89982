"""The release's container as every target starts it: one environment file, one `docker run`.

Each target wraps these lines in its own boot mechanism (user data, a startup script, a VM
extension, a cloud-init seed) and adds what only it has: the secret store the password comes
from and the log driver. What the container sees is decided here, once, so that the targets
cannot drift apart: the same variables, the same file, the same quoting of the artifact.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Mapping, Sequence

from components.compute import APP_ENV_DATABASE_PASSWORD, APP_ENV_FILE

RETRY_MAX_DELAY_SECONDS = 60
"""The longest wait between two attempts of a boot step."""
APP_CONTAINER = "app"
"""The container's name on the instance, so that a rerun can replace it."""
ENV_DELIMITER = "STAGELINE_ENV"


def env_file_text(variables: Mapping[str, str]) -> str:
    """`docker run --env-file` text: one NAME=value a line, taken literally (no quoting).

    A line break would start a variable of its own, so it is refused; the value itself is
    never shown, since it may be the password.
    """
    for name, value in variables.items():
        if "\n" in value or "\r" in value:
            raise ValueError(
                f"{name} holds a line break: values must be single lines in {APP_ENV_FILE}"
            )
    return "".join(f"{name}={value}\n" for name, value in variables.items())


def env_file_folder(env_file: str = APP_ENV_FILE) -> str:
    """The folder of the environment file, shell-quoted."""
    return shlex.quote(posixpath.dirname(env_file))


def write_env_file(variables: Mapping[str, str], destination: str) -> str:
    """Shell that writes `variables` to `destination` (a shell word, quoted by the caller).

    The here-document's delimiter is quoted, so the shell never expands the values.
    """
    return f"cat > {destination} <<'{ENV_DELIMITER}'\n{env_file_text(variables)}{ENV_DELIMITER}"


def append_password(shell_variable: str, destination: str) -> str:
    """Shell that appends the database password, read at boot into `shell_variable`.

    printf keeps the value off the command line of any other process and out of `set -x`.
    """
    return f"printf '{APP_ENV_DATABASE_PASSWORD}=%s\\n' \"${shell_variable}\" >> {destination}"


def retry_function(attempts: int, first_delay: int) -> str:
    """Shell function `retry CMD ARGS…`: runs CMD until it succeeds, at most `attempts` times.

    The wait doubles from `first_delay` seconds up to RETRY_MAX_DELAY_SECONDS, so a boot step
    outlasts a slow network path but never hangs the boot. Only CMD's name is logged: its
    arguments may name a secret.
    """
    limit = RETRY_MAX_DELAY_SECONDS
    return f"""retry() {{
  local attempt=1 delay={first_delay}
  until "$@"; do
    if [ "$attempt" -ge {attempts} ]; then
      echo "stageline: giving up after $attempt attempts: $1" >&2
      return 1
    fi
    echo "stageline: attempt $attempt of {attempts} failed: $1" >&2
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2 > {limit} ? {limit} : delay * 2))
  done
}}"""


def docker_run(
    artifact: str,
    app_port: int,
    *,
    log_options: Sequence[str] = (),
    supervised: bool = False,
    name: str = APP_CONTAINER,
    env_file: str = APP_ENV_FILE,
    docker: str = "docker",
) -> str:
    """The `docker run` line of the release, the artifact quoted and last.

    `log_options` are shell words as given (a target's may expand `$REGION`). `supervised`:
    a service manager restarts the container, so docker removes it when it stops; otherwise
    docker runs it detached and restarts it itself.
    """
    named = ["--name", shlex.quote(name)]
    mode = ["--rm", *named] if supervised else ["-d", *named, "--restart=always"]
    return " ".join(
        [
            docker,
            "run",
            *mode,
            *log_options,
            "-p",
            f"{app_port}:{app_port}",
            "--env-file",
            shlex.quote(env_file),
            shlex.quote(artifact),
        ]
    )
