"""Where an engine install lives, and the environment every engine command runs with."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from components.targets import process_environment
from stageline.engine.probe import acquisition_env

REPO_ROOT = Path(__file__).resolve().parents[2]
# The wrapper Go module whose go.mod/go.sum pin every engine binary stageline builds.
WRAPPER_DIR = REPO_ROOT / "engine"
DEFAULT_HOME = REPO_ROOT / ".stageline"
# Another stageline home for the engine and its plugins, e.g. to try an engine beside the
# checkout's own.
HOME_ENV = "STAGELINE_HOME"
STAMP_NAME = ".stageline-engine.json"


@dataclass(frozen=True)
class Layout:
    """Where an install lives under a stageline home (``<repo>/.stageline`` by default)."""

    home: Path

    @classmethod
    def for_home(cls, home: Path | None) -> Layout:
        given = os.environ.get(HOME_ENV)
        return cls((home or (Path(given) if given else DEFAULT_HOME)).resolve())

    @property
    def root(self) -> Path:
        return self.home / "engine"

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def pulumi_home(self) -> Path:
        return self.home / "pulumi-home"

    @property
    def acquisition(self) -> Path:
        """Whether the last install could download plugins."""
        return self.root / "acquisition.json"

    @property
    def stamp(self) -> Path:
        return self.bin_dir / STAMP_NAME

    def record_online(self, online: bool) -> None:
        # Commands read this instead of probing the download site on every run.
        self.acquisition.write_text(json.dumps({"online": online}))

    def recorded_online(self) -> bool:
        """What the last install found; without one, fail fast on a missing plugin."""
        try:
            return bool(json.loads(self.acquisition.read_text()).get("online"))
        except (OSError, ValueError, AttributeError):
            return False


def engine_env(home: Path | None = None, online: bool | None = None) -> dict[str, str]:
    """Variables to add to a process environment so that it runs the installed engine.

    ``online`` says whether plugins can be downloaded here; None takes what the last install
    found (see ``install``), so that commands never probe the network themselves.
    """
    layout = Layout.for_home(home)
    if online is None:
        online = layout.recorded_online()
    path = os.environ.get("PATH", "")
    # The bin dir comes first so that plugins built beside pulumi win over ambient ones. The
    # interpreter running stageline comes next: the language host and the dynamic-provider
    # script start `python3` from PATH, and only this one has the Pulumi SDK installed.
    prefix = [str(layout.bin_dir), str(Path(sys.executable).parent)]
    return {
        "PATH": os.pathsep.join([*prefix, path] if path else prefix),
        # Plugins installed with `pulumi plugin install` land in PULUMI_HOME/plugins; keep them
        # inside the git-ignored home instead of the user's ~/.pulumi.
        "PULUMI_HOME": str(layout.pulumi_home),
        # Where nothing can be downloaded, a missing plugin must fail fast rather than hang on
        # a download that cannot succeed; elsewhere the engine may fetch what it lacks.
        **acquisition_env(online),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        # What targets need in every process, provider processes included (components/targets.py).
        **process_environment(),
    }
