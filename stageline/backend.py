"""Where stack state lives and how its secrets are encrypted.

The embedded default is a file backend in the git-ignored `.stageline/state` folder with a
passphrase secrets provider. The default passphrase is for local use only: it is printed in
this file, so anything encrypted with it is readable by anyone with the state. Point stageline
at another backend with STAGELINE_BACKEND_URL (or PULUMI_BACKEND_URL) and set
PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PASSPHRASE = "stageline-local-only"
DIY_SCHEMES = ("file://", "s3://", "gs://", "azblob://", "postgres://")


class BackendError(Exception):
    """The backend settings cannot be used; the message says which variable to set."""


@dataclass(frozen=True)
class Backend:
    url: str
    passphrase: str | None
    """None where the backend brings its own secrets provider (Pulumi Cloud)."""
    default_passphrase: bool
    state_dir: Path | None = None
    """The embedded default's folder, made on first use; None for a backend the user named."""

    def prepare(self) -> None:
        """Make the default state folder: the engine refuses a file backend that does not exist.

        Only the embedded default is created. A folder the user named is theirs to make, so a
        typo in STAGELINE_BACKEND_URL stays an error instead of a new, empty state.
        """
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        env = {"PULUMI_BACKEND_URL": self.url}
        if self.passphrase is not None:
            env["PULUMI_CONFIG_PASSPHRASE"] = self.passphrase
        return env

    def warning(self) -> str | None:
        if self.default_passphrase:
            return (
                "using stageline's default passphrase for local state; set "
                "PULUMI_CONFIG_PASSPHRASE before sharing this state with anyone"
            )
        return None


def default_state_dir(project_root: Path) -> Path:
    return project_root / ".stageline" / "state"


def default_state_url(project_root: Path) -> str:
    return f"file://{default_state_dir(project_root)}"


def resolve_backend(project_root: Path, environ: Mapping[str, str] | None = None) -> Backend:
    env = os.environ if environ is None else environ
    url = env.get("STAGELINE_BACKEND_URL") or env.get("PULUMI_BACKEND_URL")
    state_dir = None if url else default_state_dir(project_root)
    url = url or default_state_url(project_root)
    if not url.startswith(DIY_SCHEMES):
        # Pulumi Cloud and self-hosted services encrypt secrets themselves.
        return Backend(url, None, False)
    passphrase = env.get("PULUMI_CONFIG_PASSPHRASE")
    passphrase_file = env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if passphrase is None and passphrase_file:
        try:
            passphrase = Path(passphrase_file).read_text().strip()
        except OSError as exc:
            raise BackendError(
                f"PULUMI_CONFIG_PASSPHRASE_FILE={passphrase_file!r} cannot be read ({exc}); "
                "fix the path or set PULUMI_CONFIG_PASSPHRASE"
            ) from exc
    if passphrase:
        return Backend(url, passphrase, False, state_dir)
    if not url.startswith("file://"):
        raise BackendError(
            f"backend {url} is shared, and the default passphrase would leave its secrets "
            "readable by anyone: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE)"
        )
    return Backend(url, DEFAULT_PASSPHRASE, True, state_dir)
