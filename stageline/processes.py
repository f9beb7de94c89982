"""Worker processes that start warm and clean, for planners and engine previews.

A plain fork copies whatever the parent holds, and a parent that already ran the engine in
process (a test, a longer-lived command) holds gRPC channels whose finalizers crash a forked
child. A spawned worker is clean but spends a second importing Pulumi. So workers are forked
from a server process that imported only what they need. The server outlives one command's
environment, so each worker is handed the caller's environment when it starts its work.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping
from multiprocessing.context import BaseContext


def warm_context(*modules: str) -> BaseContext:
    """A context whose processes fork from a server that has imported `modules`."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(modules))
    return context


def adopt_environment(environ: Mapping[str, str]) -> None:
    """Make this worker's environment the caller's (see the module docstring)."""
    os.environ.clear()
    os.environ.update(environ)
