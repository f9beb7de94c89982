"""The real DrEngine: the same code paths as `stageline up` and `stageline destroy`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click
from pulumi import automation as auto

from stageline.cli.context import CliContext, engine_errors
from stageline.cli.destroy import destroy as destroy_command
from stageline.cli.recover import recover as recover_command
from stageline.cli.up import run_up, wait_for_machines


@dataclass
class CliDrEngine:
    ctx: click.Context
    obj: CliContext
    wait_timeout: float

    def up(self, stage: str, wait: bool = True) -> None:
        # Refreshed first: a converge after a failover must start from what the operations
        # changed (a replica promoted outside the engine), not from the state before them.
        run_up(self.obj, stage, wait=wait, timeout=self.wait_timeout, refresh=True)

    def wait(self, stage: str) -> None:
        wait_for_machines(self.obj, stage, self.wait_timeout)

    def recover(self, stage: str) -> None:
        self.ctx.invoke(recover_command, stage=stage, wait=False, wait_timeout=self.wait_timeout)

    def outputs(self, stage: str) -> Mapping[str, Any]:
        stack = self.obj.stack(stage, create=False)
        with engine_errors(stage):
            return {key: out.value for key, out in stack.outputs().items()}

    def destroy(self, stage: str, force_protected: bool) -> None:
        # Invoked, not copied: its protected-resource handling and ephemeral cleanup included.
        self.ctx.invoke(destroy_command, stage=stage, yes=True, force_protected=force_protected)

    def stacks(self) -> list[str]:
        workspace = auto.LocalWorkspace(
            work_dir=str(self.obj.project.root),
            pulumi_command=self.obj.ensure_engine().command,
            env_vars=self.obj.pulumi_env(),
        )
        with engine_errors("(all)"):
            # A DIY backend may list `organization/stageline/<name>`.
            return [s.name.rsplit("/", 1)[-1] for s in workspace.list_stacks()]
