"""Stage stacks on the Automation API: the one program, the project's stack files, the backend."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pulumi import automation as auto

from stageline import PROJECT
from stageline.automation import StageWorkspace
from stageline.backend import Backend
from stageline.stack_files import STACK_FILE_PREFIX, StackFile, find_stack, list_stack_files

if TYPE_CHECKING:
    from stageline.program import EnvironmentBuilder

EPHEMERAL_HEADER = "# Ephemeral copy made by stageline; removed by `stageline destroy`.\n"


class StageNotFoundError(Exception):
    """No stack file for the stage, nor a template it copies."""


@dataclass(frozen=True)
class Project:
    root: Path
    """Folder holding Pulumi.yaml and stacks/."""
    environment: EnvironmentBuilder | None = None
    """What the program builds once the stage is validated and its release resolved; None is
    stageline.program.build_environment."""

    @property
    def stacks_dir(self) -> Path:
        return self.root / "stacks"

    def program(self) -> Callable[[], None]:
        """The same function `pulumi up` runs through __main__.py, told which stack files to read.

        Imported when the engine calls it, so that a command starts the engine first and loads
        the template meanwhile (see ``warm_program``).
        """

        def run() -> None:
            from stageline.program import build_environment, deploy

            deploy(self.stacks_dir, self.environment or build_environment)

        return run

    def warm_program(self, stage: str) -> None:
        """Import what the program will import for this stage: run while the engine starts.

        Any failure is left for the program itself to report, with its own clear message.
        """
        modules = ["stageline.program"]
        try:
            target = self.stack_file(stage).values.get("target")
        except Exception:  # the program reports a bad stack file
            target = None
        if isinstance(target, str) and target.isidentifier():
            modules += [f"components.{target}.{name}" for name in ("kit", "rules", "preflight")]
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception:  # see the docstring
                continue

    def stack_files(self) -> dict[str, StackFile]:
        return {s.name: s for s in list_stack_files(self.stacks_dir)}

    def stack_file(self, stage: str) -> StackFile:
        stacks = self.stack_files()
        found = find_stack(stage, stacks)
        if found is None:
            raise StageNotFoundError(
                f"no stacks/{STACK_FILE_PREFIX}{stage}.yaml; stages: {', '.join(sorted(stacks))}"
            )
        return found

    def stack_file_path(self, stage: str) -> Path:
        """Where the stage's own stack file is (or its ephemeral copy goes)."""
        return self.stacks_dir / f"{STACK_FILE_PREFIX}{stage}.yaml"

    def is_ephemeral(self, stage: str) -> bool:
        path = self.stack_file_path(stage)
        return path.is_file() and path.read_text().startswith(EPHEMERAL_HEADER)

    def is_committed(self, stage: str) -> bool:
        """Whether the stage has a stack file of its own (not an ephemeral copy)."""
        return self.stack_file_path(stage).is_file() and not self.is_ephemeral(stage)

    def ensure_stack_file(self, stage: str) -> StackFile:
        """An ephemeral `ci-1234` gets a copy of its template's file: Pulumi reads config there."""
        found = self.stack_file(stage)
        target = self.stack_file_path(stage)
        if found.path != target:
            body = re.sub(r"(?m)^encryptionsalt:.*\n", "", found.path.read_text())
            target.write_text(EPHEMERAL_HEADER + body)
        return found


@dataclass(frozen=True)
class Engine:
    """The Pulumi CLI to drive and the environment it runs with."""

    command: auto.PulumiCommand
    env: dict[str, str]


def stage_env(engine: Engine, backend: Backend) -> dict[str, str]:
    """The variables every engine run adds to the process environment: engine, then backend."""
    return {**engine.env, **backend.env()}


def stack_in_state(backend: Backend, stage: str) -> bool:
    """Whether the backend surely holds the stage's stack; False when it cannot tell.

    Only a file backend can be read without the engine: it keeps one checkpoint per stack under
    .pulumi/stacks/<project>/. Elsewhere the caller asks the engine (`pulumi stack select`).
    """
    if not backend.url.startswith("file://") or "?" in backend.url:
        return False
    stacks = Path(backend.url.removeprefix("file://")).expanduser() / ".pulumi/stacks" / PROJECT
    return any((stacks / f"{stage}{ext}").is_file() for ext in (".json", ".json.gz"))


def project_workspace(project: Project, backend: Backend, engine: Engine) -> StageWorkspace:
    """The project on the backend, for commands on one stack or on all of them."""
    backend.prepare()
    return StageWorkspace(
        known=lambda name: stack_in_state(backend, name),
        work_dir=str(project.root),
        program=project.program(),
        pulumi_command=engine.command,
        env_vars=stage_env(engine, backend),
        secrets_provider="passphrase" if backend.passphrase is not None else None,
    )


def open_stack(
    project: Project, stage: str, backend: Backend, engine: Engine, create: bool
) -> auto.Stack:
    """The stage's stack, created on demand from stacks/Pulumi.<stage>.yaml.

    The engine is only asked to select it when the state does not show it exists: each command
    passes --stack itself (see stageline.automation).
    """
    project.ensure_stack_file(stage) if create else project.stack_file(stage)
    workspace = project_workspace(project, backend, engine)
    if create:
        return auto.Stack.create_or_select(stage, workspace)
    return auto.Stack.select(stage, workspace)


def remove_ephemeral_file(project: Project, stage: str) -> None:
    if project.is_ephemeral(stage):
        project.stack_file_path(stage).unlink()
