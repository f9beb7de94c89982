"""The Pulumi engine that stageline drives: found on PATH, downloaded, or built offline."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stageline.engine.bootstrap import (
        EngineNotAvailableError,
        InstallReport,
        engine_env,
        install,
    )

__all__ = ["EngineNotAvailableError", "InstallReport", "engine_env", "install"]


def __getattr__(name: str) -> Any:
    # Resolved lazily: `python -m stageline.engine.bootstrap` imports this package first, and
    # an eager import of the submodule would make runpy warn that it is already loaded.
    if name in __all__:
        return getattr(importlib.import_module("stageline.engine.bootstrap"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
