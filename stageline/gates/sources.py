"""What the gates decide on, read from where it lives: the approver (the command line, or the
GitHub environment's reviewer of this run), the upstream's health through its target, and
what the promotion widens (the stage's engine preview against its state)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click
from pulumi import automation as auto

from components.contract import KEY_INGRESS
from components.dr_ops import IngressHealth, OperationUnavailable, http_health, operations_of
from components.ingress import HEALTH_PATH
from components.targets import target_of
from policy.broadening import Widening
from stageline.ci.engine_preview import ChangeCollector
from stageline.ci.github import GitHubClient, GitHubError, Repo
from stageline.ci.report import ResourceChange
from stageline.cli.context import engine_errors
from stageline.gates.checks import Approver
from stageline.model import stage_keys
from stageline.workspace import Project

APPROVAL_ENVIRONMENT = "STAGELINE_APPROVAL_ENVIRONMENT"
"""The GitHub environment whose reviewers approve a stage; default: the stage's name."""


class GateError(click.ClickException):
    """A gate's input cannot be read at all (not: the gate blocks)."""


def approver_from(cli_name: str | None, stage: str, env: Mapping[str, str]) -> Approver | None:
    """`--approved-by NAME`; else, in a GitHub Actions job, the reviewer who approved this
    run's deployment to the stage's environment; else None."""
    if cli_name is not None:
        name = cli_name.strip()
        if not name:
            raise GateError("--approved-by is empty: name the person who approved it")
        return Approver(name, "--approved-by")
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    repo, run = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    if not repo or not run.isdigit():
        return None
    environment = env.get(APPROVAL_ENVIRONMENT) or stage
    try:
        with GitHubClient.from_env(env) as client:
            approvals = client.run_approvals(Repo.parse(repo), int(run))
    except (GitHubError, ValueError) as exc:
        raise GateError(
            f"cannot read who approved run {run} of {repo} ({exc}); give the job "
            "`permissions: actions: read`, or pass --approved-by NAME"
        ) from None
    for approval in approvals:
        if approval.state == "approved" and environment in approval.environments:
            return Approver(approval.login, f"GitHub environment {environment}")
    return None


def plain_outputs(outputs: Mapping[str, auto.OutputValue]) -> dict[str, Any]:
    return {key: out.value for key, out in outputs.items()}


def upstream_health(project: Project, upstream: str, outputs: Mapping[str, Any]) -> IngressHealth:
    """Ask the upstream's ingress for its health: through the target's operations where it
    has them (a site's guests are asked through their agent: no network path is needed),
    else over HTTP from here (a cloud load balancer)."""
    from stageline.dr.stage import DrError, view

    keys = stage_keys(project.stack_file(upstream).values)
    target = target_of(keys.target or "")
    if target.ops:
        try:
            return operations_of(target.ops).ingress_health(view(project, upstream, outputs))
        except (DrError, OperationUnavailable) as exc:
            return IngressHealth(False, str(exc))
    ingress = outputs.get(KEY_INGRESS)
    endpoint = ingress.get("endpoint") if isinstance(ingress, dict) else None
    if not endpoint:
        return IngressHealth(False, f"{upstream} exports no ingress endpoint")
    return http_health(str(endpoint), str(ingress.get("healthPath") or HEALTH_PATH))


@dataclass(frozen=True)
class StagePreview:
    changes: list[ResourceChange]
    widenings: list[Widening]


def preview_stage(stack: auto.Stack, stage: str) -> StagePreview:
    """The stage's update as the engine previews it against its state, with what it widens."""
    from stageline.policy_gate import holds_data, widened

    collector = ChangeCollector(holds_data, widened=widened)
    with engine_errors(stage):
        stack.preview(on_event=collector)
    if collector.failure:
        raise GateError(f"{stage}: the preview could not be read: {collector.failure}")
    return StagePreview(collector.result(), collector.widening_list())
