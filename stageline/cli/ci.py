"""`stageline ci ...`: what a CI job runs on a pull request.

`ci comment` posts the report that `stageline preview --all --format json` wrote: one summary
comment (plus numbered continuations when it is long), edited in place on every push, and the
job's step summary.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click
from pulumi import automation as auto

from stageline.ci.comment import COMMENT_BUDGET, sync_comments, write_step_summary
from stageline.ci.github import GitHubClient, GitHubError, Repo
from stageline.ci.report import PreviewReport, load_report
from stageline.cli.context import CliContext, engine_errors
from stageline.cli.up import run_up, timeout_option, wait_option

DEFAULT_REPORT = Path(".stageline/ci/preview.json")
"""Where `ci comment` reads the report by default, under the project root."""

RenderComments = Callable[[PreviewReport, int], list[str]]
RenderSummary = Callable[[PreviewReport], str]


def load_renderer() -> tuple[RenderComments, RenderSummary]:
    """The markdown renderer: comment bodies within a budget, and the step summary."""
    from stageline.ci.markdown import render_comments, render_summary

    return render_comments, render_summary


def _repo(ctx: click.Context, param: click.Parameter, value: str) -> Repo:
    try:
        return Repo.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc


def read_report(path: Path) -> PreviewReport:
    writer = f"`stageline preview --all --format json --output {path}`"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise click.ClickException(
            f"no preview report at {path}: write it first with {writer}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(
            f"cannot read the preview report {path} ({exc}): re-write it with {writer}"
        ) from None
    try:
        return load_report(text)
    except ValueError as exc:
        # pydantic's error lists every field; its first lines say what is wrong.
        reason = str(exc).strip().splitlines()
        detail = "; ".join(reason[:3])
        raise click.ClickException(
            f"the preview report {path} is not one stageline can read ({detail}): "
            f"re-write it with {writer}"
        ) from None


@click.group()
def ci() -> None:
    """What CI runs: post the preview summary; make, remove and sweep ephemeral `ci-<id>`
    stacks."""


def _ci_name(obj: CliContext, ci_id: str) -> str:
    from stageline.ci.stacks import CiStackError, stack_name

    try:
        return stack_name(obj.project, ci_id)
    except CiStackError as exc:
        raise click.BadParameter(str(exc), param_hint="--id") from None


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    from stageline.ci.stacks import CiStackError, parse_duration

    if value is None:
        return None
    try:
        return parse_duration(value, f"--{param.name.replace('_', '-')}")  # type: ignore[union-attr]
    except CiStackError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def remove_ci_stack(obj: CliContext, name: str) -> str:
    """Destroy the stack, remove it from the backend and remove its stack file copy; the
    copy is made again first when this clone lacks it (a sweep from a fresh checkout)."""
    from stageline.progress import format_changes
    from stageline.workspace import remove_ephemeral_file

    obj.project.ensure_stack_file(name)
    stack = obj.stack(name, create=False)
    with engine_errors(name):
        result = stack.destroy()
        stack.workspace.remove_stack(name)
    remove_ephemeral_file(obj.project, name)
    return format_changes(result.summary.resource_changes)


id_option = click.option(
    "--id",
    "ci_id",
    required=True,
    metavar="ID",
    help="The run's id, e.g. pr-1234: the stack is ci-ID.",
)


@ci.command("up")
@id_option
@click.option(
    "--ttl",
    default="24h",
    show_default=True,
    help="How long the stack may live before `stageline ci gc` removes it (90s, 30m, 24h, 7d).",
)
@wait_option
@timeout_option
@click.pass_obj
def ci_up(obj: CliContext, ci_id: str, ttl: str, wait: bool, wait_timeout: float) -> None:
    """Create and deploy ci-ID from the `ci` template, tagged with its time to live."""
    from stageline.ci.stacks import TEMPLATE, TEMPLATE_TAG, TTL_TAG, CiStackError, parse_duration

    try:
        parse_duration(ttl, "--ttl")
    except CiStackError as exc:
        raise click.BadParameter(str(exc), param_hint="--ttl") from None
    name = _ci_name(obj, ci_id)
    stack = obj.stack(name)
    with engine_errors(name):
        # Tagged before the first update: a failed deploy is still swept.
        stack.workspace.set_tag(name, TTL_TAG, ttl.strip())
        stack.workspace.set_tag(name, TEMPLATE_TAG, TEMPLATE)
    click.echo(f"{name}: made from the {TEMPLATE} template, time to live {ttl.strip()}")
    run_up(obj, name, wait, wait_timeout)


@ci.command("down")
@id_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def ci_down(obj: CliContext, ci_id: str, yes: bool) -> None:
    """Destroy ci-ID and remove it from the backend."""
    name = _ci_name(obj, ci_id)
    if not yes:
        click.confirm(f"Destroy every resource of {name!r} and remove the stack?", abort=True)
    click.echo(f"{name}: destroyed and removed, {remove_ci_stack(obj, name)}")


@ci.command("gc")
@click.option(
    "--older-than",
    callback=_duration,
    metavar="DURATION",
    help="Remove ci-* stacks made longer ago than this, whatever their TTL tag says "
    "(default: each stack's own `stageline:ttl`, else 24h).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.pass_obj
def ci_gc(obj: CliContext, older_than: object, dry_run: bool) -> None:
    """Destroy and remove every ci-* stack on the backend whose time to live has passed."""
    from datetime import UTC, datetime, timedelta

    from stageline.ci.stacks import ci_stack_names, read_ci_stack, sweep

    assert older_than is None or isinstance(older_than, timedelta)
    workspace = obj.workspace()
    with engine_errors("ci"):
        summaries = ci_stack_names(workspace.list_stacks())
    if not summaries:
        click.echo("no ci-* stacks on the backend")
        return
    found = []
    for summary in summaries:
        stack = auto.Stack.select(summary.name, workspace)
        with engine_errors(summary.name):
            found.append(read_ci_stack(obj.project, stack, summary, older_than))

    def remove(name: str) -> None:
        try:
            remove_ci_stack(obj, name)
        except click.ClickException as exc:
            raise RuntimeError(exc.format_message()) from None

    results = sweep(
        found,
        datetime.now(UTC),
        remove,
        dry_run,
        lambda r: click.echo(f"{r.name}: {r.outcome} ({r.detail})"),
    )
    failed = [r.name for r in results if r.outcome == "failed"]
    if failed:
        raise click.ClickException(
            f"{len(failed)} of {len(results)} ci stacks could not be removed: {', '.join(failed)}"
        )


@ci.command("comment")
@click.option(
    "--repo",
    "repo",
    required=True,
    callback=_repo,
    metavar="OWNER/NAME",
    help="The repository of the pull request.",
)
@click.option(
    "--pr",
    type=click.IntRange(min=1),
    required=True,
    metavar="N",
    help="The pull request's number.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"The report `stageline preview --all --format json` wrote. Default: {DEFAULT_REPORT}"
    " under the project.",
)
@click.pass_obj
def comment(obj: CliContext, repo: Repo, pr: int, report_path: Path | None) -> None:
    """Post the preview summary on pull request N, editing stageline's earlier comments.

    The token comes from GITHUB_TOKEN (it needs `pull-requests: write` and `issues: write`),
    the API from GITHUB_API_URL (default https://api.github.com). When GITHUB_STEP_SUMMARY is
    set, the summary is also written there.
    """
    report = read_report(report_path or obj.project.root / DEFAULT_REPORT)
    render_comments, render_summary = load_renderer()
    bodies = render_comments(report, COMMENT_BUDGET)
    try:
        client = GitHubClient.from_env()
    except GitHubError as exc:
        raise click.ClickException(str(exc)) from None
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    pull = f"{server}/{repo}/pull/{pr}"
    # The step summary first: if GitHub refuses the comment, the job still shows the summary.
    try:
        written = write_step_summary(render_summary(report), pull)
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    if written is not None:
        click.echo(f"step summary written to {written}")
    with client:
        try:
            result = sync_comments(client, repo, pr, bodies)
        except (GitHubError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(result.describe())
    if result.urls:
        click.echo(f"summary: {result.urls[0]}")
