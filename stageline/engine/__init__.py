"""The Pulumi engine that stageline drives: found on PATH, downloaded, or built offline."""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stageline.engine.bootstrap import (
        EngineNotAvailableError,
        InstallReport,
        engine_env,
        install,
    )

__all__ = ["EngineNotAvailableError", "InstallReport", "command_engine", "engine_env", "install"]


def command_engine() -> InstallReport:
    """The engine a command drives: the current install as its stamp records it, or install().

    The stamp was written by an install that checked the pinned version and the plugins, and
    recorded whether plugins can be downloaded (which engine_env passes on to the engine). So a
    command that finds it current needs no `pulumi version`, no plugin scan and no probe.
    """
    from stageline.engine import bootstrap

    layout = bootstrap.Layout.for_home(None)
    report = bootstrap._current_install(layout, bootstrap.pinned_version(), time.monotonic())
    return report if report is not None else bootstrap.install()


def __getattr__(name: str) -> Any:
    # Resolved lazily: `python -m stageline.engine.bootstrap` imports this package first, and
    # an eager import of the submodule would make runpy warn that it is already loaded.
    if name in __all__:
        return getattr(importlib.import_module("stageline.engine.bootstrap"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
