"""`stageline ci comment`'s GitHub side, against the loopback fake of the GitHub API
(tests/fake_github.py): paging, edit in place, a summary that grows and shrinks, the marker's
reserve, errors and rate limits as clear messages, and the step summary's 1 MiB cap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stageline.ci.comment import (
    COMMENT_BUDGET,
    MARKER_RESERVE,
    STEP_SUMMARY_LIMIT,
    marker,
    sync_comments,
    write_step_summary,
)
from stageline.ci.github import (
    GITHUB_COMMENT_LIMIT,
    GitHubClient,
    GitHubError,
    NotFound,
    RateLimited,
    Repo,
)
from tests.fake_github import FakeGitHub, serve

TOKEN = "ghs_test"
BOT = "github-actions[bot]"
REPO = "octo-org/app"
PR = 12


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serve() as running:
        running.add_token(TOKEN, BOT)
        running.add_pull(REPO, PR)
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


def client(fake: FakeGitHub, sleeps: list[float], **options: object) -> GitHubClient:
    settings: dict[str, object] = {"sleep": sleeps.append, "backoff": 0.01, **options}
    return GitHubClient(TOKEN, fake.url, **settings)  # type: ignore[arg-type]


def sync(fake: FakeGitHub, sleeps: list[float], bodies: list[str], **kw: object):  # type: ignore[no-untyped-def]
    with client(fake, sleeps) as github:
        return sync_comments(github, Repo.parse(REPO), PR, bodies, **kw)  # type: ignore[arg-type]


def ours(fake: FakeGitHub) -> list[tuple[int, str]]:
    return [(c["id"], c["body"]) for c in fake.pull(REPO, PR) if c["user"]["login"] == BOT]


# -- paging ---------------------------------------------------------------------------------


def test_every_page_is_read_following_link(fake: FakeGitHub, sleeps: list[float]) -> None:
    for i in range(250):
        fake.post(REPO, PR, f"review {i}")
    with client(fake, sleeps) as github:
        comments = github.list_comments(Repo.parse(REPO), PR)
    assert [c.body for c in comments] == [f"review {i}" for i in range(250)]
    pages = [s.query.get("page", "1") for s in fake.seen if s.method == "GET"]
    assert pages == ["1", "2", "3"], fake.seen
    assert fake.seen[0].query["per_page"] == "100"


def test_our_comments_past_the_first_page_of_30_are_found(
    fake: FakeGitHub, sleeps: list[float]
) -> None:
    # A server that pages at 30 whatever per_page asks: our comments sit on pages 2 and 3.
    fake.max_per_page = 30
    for i in range(45):
        fake.post(REPO, PR, f"review {i}")
    first = sync(fake, sleeps, ["summary v1", "details v1"])
    for i in range(20):
        fake.post(REPO, PR, f"late review {i}")
    fake.seen.clear()
    result = sync(fake, sleeps, ["summary v2", "details v2"])
    pages = [s.query.get("page", "1") for s in fake.seen if s.method == "GET"]
    assert pages == ["1", "2", "3"], fake.seen
    assert result.edited == first.created
    assert not result.created and not result.deleted
    assert len(fake.pull(REPO, PR)) == 67


# -- edit in place, grow, shrink ------------------------------------------------------------


def test_a_second_run_edits_the_same_comments(fake: FakeGitHub, sleeps: list[float]) -> None:
    first = sync(fake, sleeps, ["summary v1", "details v1"])
    assert len(first.created) == 2 and not first.edited
    fake.post(REPO, PR, "looks good")
    second = sync(fake, sleeps, ["summary v2", "details v2"])
    assert second.edited == first.created
    assert not second.created and not second.deleted
    assert ours(fake) == [
        (first.created[0], marker("preview", 1) + "summary v2"),
        (first.created[1], marker("preview", 2) + "details v2"),
    ]
    assert second.describe() == f"edited 2, created 0, deleted 0 comments on {REPO}#{PR}"
    assert second.urls[0].endswith(f"#issuecomment-{first.created[0]}")


def test_an_unchanged_summary_is_not_edited(fake: FakeGitHub, sleeps: list[float]) -> None:
    sync(fake, sleeps, ["summary"])
    fake.seen.clear()
    again = sync(fake, sleeps, ["summary"])
    assert not fake.writes(), fake.seen
    assert again.describe().endswith("(1 already up to date)")


def test_a_growing_then_shrinking_summary(fake: FakeGitHub, sleeps: list[float]) -> None:
    early = fake.post(REPO, PR, "first review")
    one = sync(fake, sleeps, ["summary v1"])
    middle = fake.post(REPO, PR, "second review")
    grown = sync(fake, sleeps, ["summary v2", "part 2", "part 3", "part 4"])
    assert grown.edited == one.created
    assert len(grown.created) == 3
    late = fake.post(REPO, PR, "third review")
    shrunk = sync(fake, sleeps, ["summary v3", "part 2 v3"])
    assert shrunk.edited == (one.created[0], grown.created[0])
    assert shrunk.deleted == grown.created[1:]
    assert ours(fake) == [
        (one.created[0], marker("preview", 1) + "summary v3"),
        (grown.created[0], marker("preview", 2) + "part 2 v3"),
    ]
    others = [(c["id"], c["body"]) for c in fake.pull(REPO, PR) if c["user"]["login"] != BOT]
    assert others == [(early, "first review"), (middle, "second review"), (late, "third review")]
    touched = {s.path.rsplit("/", 1)[-1] for s in fake.writes() if s.method != "POST"}
    assert not touched & {str(early), str(middle), str(late)}


def test_look_alikes_of_the_marker_are_not_ours(fake: FakeGitHub, sleeps: list[float]) -> None:
    """Only a body that starts with the marker line is ours: quoting it, showing it in a code
    block, mentioning it mid-text or using another key leaves a comment alone."""
    mark = marker("preview", 1)
    look_alikes = [
        f"> {mark}> summary\n\nAgreed.",  # GitHub's "Quote reply"
        f"```\n{mark}summary\n```",
        f"stageline writes `{mark.strip()}` on its first line",
        f"{mark.strip()} but no newline after it",
        f"{marker('other', 1)}another tool's summary",
    ]
    ids = [fake.post(REPO, PR, body, login="maintainer") for body in look_alikes]
    result = sync(fake, sleeps, ["summary"])
    assert len(result.created) == 1 and not result.edited and not result.deleted
    assert [(c["id"], c["body"]) for c in fake.pull(REPO, PR)][:5] == list(
        zip(ids, look_alikes, strict=True)
    )


def test_a_duplicate_from_a_concurrent_run_is_removed(
    fake: FakeGitHub, sleeps: list[float]
) -> None:
    first = sync(fake, sleeps, ["summary"])
    twin = fake.post(REPO, PR, marker("preview", 1) + "summary", login=BOT)
    result = sync(fake, sleeps, ["summary v2"])
    assert result.edited == first.created and result.deleted == (twin,)


def test_our_comment_saved_by_githubs_editor_is_still_ours(
    fake: FakeGitHub, sleeps: list[float]
) -> None:
    # The web editor saves CRLF line ends; such an edit must not orphan the summary.
    edited_by_hand = fake.post(REPO, PR, marker("preview", 1).replace("\n", "\r\n") + "x", BOT)
    result = sync(fake, sleeps, ["summary"])
    assert result.edited == (edited_by_hand,) and not result.created


def test_another_key_is_kept_apart(fake: FakeGitHub, sleeps: list[float]) -> None:
    drift = sync(fake, sleeps, ["drift report"], key="drift")
    sync(fake, sleeps, ["summary", "part 2"])
    shrunk = sync(fake, sleeps, ["summary"])
    assert drift.created[0] not in shrunk.deleted
    assert (drift.created[0], marker("drift", 1) + "drift report") in ours(fake)


# -- the marker's reserve -------------------------------------------------------------------


def test_a_body_at_the_budget_fits_github_with_its_marker(
    fake: FakeGitHub, sleeps: list[float]
) -> None:
    assert COMMENT_BUDGET == GITHUB_COMMENT_LIMIT - MARKER_RESERVE
    assert len(marker("a" * 32, 99_999)) <= MARKER_RESERVE
    sync(fake, sleeps, ["s" * COMMENT_BUDGET, "d" * COMMENT_BUDGET])
    stored = [len(body) for _, body in ours(fake)]
    assert len(stored) == 2 and max(stored) <= GITHUB_COMMENT_LIMIT


def test_a_body_over_the_budget_is_refused_before_any_request(
    fake: FakeGitHub, sleeps: list[float]
) -> None:
    with pytest.raises(ValueError, match=r"comment part 2 is 65473 characters.*budget=COMMENT"):
        sync(fake, sleeps, ["summary", "x" * (COMMENT_BUDGET + 1)])
    assert fake.seen == []


def test_github_refuses_an_over_long_body_with_a_clear_message(
    fake: FakeGitHub, sleeps: list[float]
) -> None:
    with (
        client(fake, sleeps) as github,
        pytest.raises(GitHubError) as caught,
    ):
        github.create_comment(Repo.parse(REPO), PR, "x" * (GITHUB_COMMENT_LIMIT + 1))
    assert str(caught.value) == (
        f"could not comment on {REPO}#{PR}: GitHub refused the request as invalid (422 "
        "Validation Failed: body is too long (maximum is 65536 characters))"
    )


# -- errors ---------------------------------------------------------------------------------


def test_a_missing_token_names_the_variable_and_the_fix() -> None:
    with pytest.raises(GitHubError) as caught:
        GitHubClient.from_env({"GITHUB_API_URL": "http://127.0.0.1:1"})
    message = str(caught.value)
    assert message.startswith("GITHUB_TOKEN is not set")
    assert "${{ secrets.GITHUB_TOKEN }}" in message and "pull-requests: write" in message


def test_a_bad_api_url_is_named() -> None:
    with pytest.raises(GitHubError, match=r"GITHUB_API_URL='api.github.com' is not an http"):
        GitHubClient.from_env({"GITHUB_TOKEN": "t", "GITHUB_API_URL": "api.github.com"})


def test_a_bad_token_says_so(fake: FakeGitHub, sleeps: list[float]) -> None:
    github = GitHubClient("ghs_wrong", fake.url, sleep=sleeps.append)
    with pytest.raises(GitHubError) as caught:
        github.list_comments(Repo.parse(REPO), PR)
    assert str(caught.value).startswith(
        f"could not list the comments of {REPO}#{PR}: GitHub rejected the token in "
        "GITHUB_TOKEN (401 Bad credentials)"
    )
    assert sleeps == []


def test_a_read_only_token_names_the_permissions(fake: FakeGitHub, sleeps: list[float]) -> None:
    fake.add_token("ghs_read", BOT, write=False)
    github = GitHubClient("ghs_read", fake.url, sleep=sleeps.append)
    with pytest.raises(GitHubError) as caught:
        sync_comments(github, Repo.parse(REPO), PR, ["summary"])
    message = str(caught.value)
    assert message.startswith(f"could not comment on {REPO}#{PR}: GitHub refused POST ")
    assert "403 Resource not accessible by integration" in message
    assert "`pull-requests: write` and `issues: write`" in message


def test_an_unknown_pull_request_is_named(fake: FakeGitHub, sleeps: list[float]) -> None:
    with client(fake, sleeps) as github, pytest.raises(NotFound) as caught:
        github.list_comments(Repo.parse(REPO), 13)
    message = str(caught.value)
    assert message.startswith(f"could not list the comments of {REPO}#13: GitHub answered 404")
    assert "Check --repo and --pr" in message


def test_server_errors_are_retried_with_backoff(fake: FakeGitHub, sleeps: list[float]) -> None:
    fake.fail_next(2)
    result = sync(fake, sleeps, ["summary"])
    assert len(result.created) == 1
    assert len(sleeps) == 2 and all(0 < s <= 1 for s in sleeps), sleeps


def test_server_errors_that_persist_end_in_one_message(
    fake: FakeGitHub, sleeps: list[float]
) -> None:
    fake.fail_next(10)
    with client(fake, sleeps) as github, pytest.raises(GitHubError) as caught:
        github.list_comments(Repo.parse(REPO), PR)
    assert str(caught.value).startswith(
        f"could not list the comments of {REPO}#{PR}: GitHub answered 502 Bad Gateway to GET "
        f"/repos/{REPO}/issues/{PR}/comments 4 times"
    )
    assert len(fake.seen) == 4


def test_a_short_primary_rate_limit_is_waited_out(fake: FakeGitHub, sleeps: list[float]) -> None:
    fake.rate_limit_next(reset_in=20)
    result = sync(fake, sleeps, ["summary"])
    assert len(result.created) == 1
    assert len(sleeps) == 1 and 15 <= sleeps[0] <= 21, sleeps


def test_a_long_primary_rate_limit_says_when_it_resets(
    fake: FakeGitHub, sleeps: list[float]
) -> None:
    fake.rate_limit_next(reset_in=3600)
    with (
        client(fake, sleeps, max_rate_wait=60) as github,
        pytest.raises(RateLimited) as caught,
    ):
        github.list_comments(Repo.parse(REPO), PR)
    message = str(caught.value)
    assert message.startswith("GitHub is rate-limiting this token (403 API rate limit exceeded")
    assert caught.value.resets_at is not None
    assert f"limit resets at {caught.value.resets_at:%Y-%m-%d %H:%M:%S} UTC (in 60 min)" in message
    assert sleeps == [] and len(fake.seen) == 1


def test_retry_after_is_obeyed_when_short(fake: FakeGitHub, sleeps: list[float]) -> None:
    fake.retry_after_next(3)
    result = sync(fake, sleeps, ["summary"])
    assert len(result.created) == 1 and sleeps == [3.0]


def test_retry_after_past_the_cap_is_an_error(fake: FakeGitHub, sleeps: list[float]) -> None:
    fake.retry_after_next(120)
    with (
        client(fake, sleeps, max_rate_wait=60) as github,
        pytest.raises(
            RateLimited, match=r"\(429 You have exceeded a secondary rate limit.*in 2 min"
        ),
    ):
        github.list_comments(Repo.parse(REPO), PR)
    assert sleeps == []


def test_an_unreachable_api_is_named(sleeps: list[float]) -> None:
    # Nothing listens on loopback port 1: refused at once, and nothing leaves the host.
    github = GitHubClient(TOKEN, "http://127.0.0.1:1", sleep=sleeps.append, attempts=2)
    with pytest.raises(GitHubError, match=r"cannot reach the GitHub API at http://127.0.0.1:1"):
        github.list_comments(Repo.parse(REPO), PR)
    assert len(sleeps) == 1


def test_a_next_page_on_another_host_gets_no_token(fake: FakeGitHub, sleeps: list[float]) -> None:
    for i in range(3):
        fake.post(REPO, PR, f"review {i}")
    fake.max_per_page = 1
    # The fake's Link headers name 127.0.0.1; the client was given `localhost`.
    github = GitHubClient(TOKEN, fake.url.replace("127.0.0.1", "localhost"), sleep=sleeps.append)
    with pytest.raises(GitHubError, match=r"next page is on another host \(127.0.0.1:"):
        github.list_comments(Repo.parse(REPO), PR)


@pytest.mark.parametrize(
    "text", ["octo-org", "octo-org/", "/app", "octo org/app", "a/b/c", "-bad/app", "octo/.."]
)
def test_a_bad_repository_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a GitHub repository"):
        Repo.parse(text)


# -- the step summary -----------------------------------------------------------------------


POINTER = f"https://github.com/{REPO}/pull/{PR}"


def test_no_step_summary_without_the_variable(tmp_path: Path) -> None:
    assert write_step_summary("# Preview", POINTER, env={}) is None


def test_the_step_summary_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("# An earlier step\n")
    assert write_step_summary("# Preview\n", POINTER, env={"GITHUB_STEP_SUMMARY": str(path)})
    assert path.read_text() == "# An earlier step\n# Preview\n"


def test_a_summary_over_1_mib_is_cut_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("# An earlier step\n")
    stage = "<details><summary>dev</summary>\n\n```diff\n" + "+ é resource\n" * 2000 + "```\n"
    markdown = "# Preview\n\n| stage | creates |\n|---|---|\n" + (stage + "</details>\n") * 60
    assert len(markdown.encode()) > STEP_SUMMARY_LIMIT
    write_step_summary(markdown, POINTER, env={"GITHUB_STEP_SUMMARY": str(path)})
    data = path.read_bytes()
    assert len(data) <= STEP_SUMMARY_LIMIT
    text = data.decode()  # whole characters only
    assert text.startswith("# An earlier step\n# Preview\n\n| stage | creates |\n")
    assert text.endswith(
        "> The summary was cut here: GitHub keeps 1 MiB of a step summary. The full summary "
        f"is in the pull request comment: {POINTER}\n"
    )
    fences = sum(1 for line in text.splitlines() if line.startswith("```"))
    assert fences % 2 == 0
    assert text.count("<details>") == text.count("</details>")
    assert len(data) > STEP_SUMMARY_LIMIT - 1000  # cut near the limit, not far before it


def test_an_unwritable_step_summary_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "summary.md"
    with pytest.raises(OSError, match=f"GITHUB_STEP_SUMMARY={missing}"):
        write_step_summary("# Preview\n", POINTER, env={"GITHUB_STEP_SUMMARY": str(missing)})
