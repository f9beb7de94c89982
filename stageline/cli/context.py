"""What every engine command needs: the project, the backend and the engine, found once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from pulumi import automation as auto

from stageline.backend import Backend, BackendError, resolve_backend
from stageline.engine.errors import explain
from stageline.workspace import (
    Engine,
    Project,
    StageNotFoundError,
    open_stack,
    project_workspace,
    stage_env,
)


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
            # Every command that reaches the backend comes through here, the engine
            # passthrough included; on a fresh clone the default folder does not exist yet.
            self._backend.prepare()
            warning = self._backend.warning()
            if warning:
                click.secho(f"warning: {warning}", fg="yellow", err=True)
        return self._backend

    def ensure_engine(self) -> Engine:
        """The engine, installed first if need be: a cold install builds it from Go modules.

        A method, not a property, so that what may take minutes is visible where it is called.
        """
        if self._engine is None:
            from stageline.automation import InstalledPulumi
            from stageline.engine import EngineNotAvailableError, current_or_install, engine_env

            try:
                report = current_or_install()
            except EngineNotAvailableError as exc:
                raise click.ClickException(str(exc)) from exc
            # The install read the engine's version; asking `pulumi version` again per command
            # would cost an engine start.
            self._engine = Engine(InstalledPulumi(report.pulumi, report.version), engine_env())
        return self._engine

    def pulumi_env(self) -> dict[str, str]:
        """What the engine runs with beyond the process environment: its own and the backend's."""
        return stage_env(self.ensure_engine(), self.backend)

    def run_pulumi(self, stage: str, args: Sequence[str]) -> auto.CommandResult:
        """Run one engine command for STAGE in the project, its failures as CLI errors."""
        engine = self.ensure_engine()
        with engine_errors(stage):
            return engine.command.run(list(args), str(self.project.root), self.pulumi_env())

    def workspace(self) -> auto.LocalWorkspace:
        """The project on the backend: to list its stacks."""
        return project_workspace(self.project, self.backend, self.ensure_engine())

    def stack(self, stage: str, create: bool = True) -> auto.Stack:
        with engine_errors(stage):
            try:
                return open_stack(self.project, stage, self.backend, self.ensure_engine(), create)
            except StageNotFoundError as exc:
                raise click.BadParameter(str(exc), param_hint="STAGE") from exc


def summarize_command_error(stage: str, exc: auto.CommandError) -> str:
    """The failure as one message saying what failed and what to run, never the raw dump."""
    return explain(stage, str(exc))


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
        raise click.ClickException(summarize_command_error(stage, exc)) from exc
