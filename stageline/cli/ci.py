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

from stageline.ci.comment import COMMENT_BUDGET, sync_comments, write_step_summary
from stageline.ci.github import GitHubClient, GitHubError, Repo
from stageline.ci.report import PreviewReport, load_report
from stageline.cli.context import CliContext

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
    """What CI runs on a pull request: post the preview summary."""


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
