"""The Pulumi engine that stageline drives: found on PATH, downloaded, or built offline.

``installer`` (the ways, in order), ``gobuild`` (the offline build), ``gomod`` (the pin),
``probe`` (can anything be downloaded here), ``plugins`` (the SDKs' provider plugins),
``layout`` (where an install lives, and the environment the engine runs with), ``launcher``
(the language host's wrapper) and ``errors`` (engine failures as sentences).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stageline.engine.installer import (
        EngineNotAvailableError,
        InstallReport,
        current_or_install,
        install,
    )
    from stageline.engine.layout import engine_env

# Name -> submodule. Resolved on first use: every command imports engine.errors, and the
# installer's imports (filelock, packaging) cost a tenth of a second only an install needs.
_EXPORTS = {
    "EngineNotAvailableError": "installer",
    "InstallReport": "installer",
    "current_or_install": "installer",
    "install": "installer",
    "engine_env": "layout",
}
__all__ = [
    "EngineNotAvailableError",
    "InstallReport",
    "current_or_install",
    "engine_env",
    "install",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"stageline.engine.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
