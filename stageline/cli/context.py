"""What every engine command needs: the project, the backend and the engine, found once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from pulumi import automation as auto

from stageline.backend import Backend, BackendError, resolve_backend
from stageline.workspace import Engine, Project, StageNotFoundError, open_stack


@dataclass
class CliContext:
    project: Project
    _backend: Backend | None = None
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            try:
                self._backend = resolve_backend(self.project.root)
            except BackendError as exc:
                raise click.ClickException(str(exc)) from exc
            warning = self._backend.warning()
            if warning:
                click.secho(f"warning: {warning}", fg="yellow", err=True)
        return self._backend

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from stageline.engine import EngineNotAvailableError, engine_env, install

            try:
                report = install()
            except EngineNotAvailableError as exc:
                raise click.ClickException(str(exc)) from exc
            env = engine_env()
            command = auto.PulumiCommand(root=str(report.root), skip_version_check=True)
            if report.way == "path":
                command = auto.PulumiCommand(skip_version_check=True)
            self._engine = Engine(command, env)
        return self._engine

    def stack(self, stage: str, create: bool = True) -> auto.Stack:
        with engine_errors(stage):
            try:
                return open_stack(self.project, stage, self.backend, self.engine, create)
            except StageNotFoundError as exc:
                raise click.BadParameter(str(exc), param_hint="STAGE") from exc


_ERROR_LINE = re.compile(r"^\s*(error|invalid stageline configuration)\b.*", re.IGNORECASE)


# The engine repeats a program's error as "an unhandled error occurred: ..." and closes with
# "update failed"; neither adds anything to the first report.
_NOISE = (
    "error: an unhandled error occurred",
    "error: update failed",
    "error: preview failed",
    "error: resource monitor has terminated",
)


def summarize_command_error(exc: auto.CommandError) -> str:
    """The engine's error lines, without its progress lines and repeated reports."""
    # CommandError carries the CLI's stdout and stderr only inside its message.
    lines = str(exc).splitlines()
    blocks: list[list[str]] = []
    for i, line in enumerate(lines):
        if not _ERROR_LINE.match(line) or "**failed**" in line:
            continue
        block = [line.strip()]
        for follow in lines[i + 1 :]:
            if not follow.strip() or _ERROR_LINE.match(follow):
                break
            block.append(follow.rstrip())
        if block not in blocks:
            blocks.append(block)
    useful = [b for b in blocks if not b[0].lower().startswith(_NOISE)] or blocks
    if not useful:
        return "\n".join([line for line in lines if line.strip()][-15:])
    return "\n".join("\n".join(b) for b in useful)


def unknown_upstream(text: str) -> str | None:
    match = re.search(r'unknown stack "([^"]+)"', text)
    return match.group(1) if match else None


@contextmanager
def engine_errors(stage: str) -> Iterator[None]:
    """Automation API errors as CLI errors that say what to do next."""
    try:
        yield
    except auto.ConcurrentUpdateError as exc:
        raise click.ClickException(
            f"stage {stage!r} is locked by another update. Wait for it to finish; if no update "
            f"is running (it was killed), run `stageline cancel {stage}` and then "
            f"`stageline refresh {stage}`."
        ) from exc
    except auto.StackNotFoundError as exc:
        raise click.ClickException(
            f"stage {stage!r} has no stack in this backend yet: run `stageline up {stage}` first."
        ) from exc
    except auto.CommandError as exc:
        missing = unknown_upstream(str(exc))
        if missing:
            upstream = missing.rsplit("/", 1)[-1]
            raise click.ClickException(
                f"stage {stage!r} promotes from {upstream!r}, but its stack {missing!r} does not "
                f"exist in this backend. Fix: run `stageline up {upstream}`, then retry."
            ) from exc
        raise click.ClickException(f"{stage}: {summarize_command_error(exc)}") from exc
