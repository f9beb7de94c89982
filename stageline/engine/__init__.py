"""The Pulumi engine that stageline drives: found on PATH, downloaded, or built offline.

``install`` (the ways, in order), ``gobuild`` (the offline build), ``gomod`` (the pin),
``probe`` (can anything be downloaded here), ``plugins`` (the SDKs' provider plugins),
``layout`` (where an install lives, and the environment the engine runs with), ``launcher``
(the language host's wrapper) and ``errors`` (engine failures as sentences).
"""

from __future__ import annotations

from stageline.engine.install import (
    EngineNotAvailableError,
    InstallReport,
    current_or_install,
    install,
)
from stageline.engine.layout import engine_env

__all__ = [
    "EngineNotAvailableError",
    "InstallReport",
    "current_or_install",
    "engine_env",
    "install",
]
