"""A small GitHub REST client for one job: the issue comments of a pull request.

Every failure becomes one `GitHubError` whose message says what failed and what to do, so the
CLI prints a sentence, not a traceback. Server errors (5xx) and dropped connections are
retried with backoff; a rate limit is waited out only when it resets soon (`max_rate_wait`),
otherwise the error says when it resets.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

DEFAULT_API_URL = "https://api.github.com"
GITHUB_COMMENT_LIMIT = 65_536
"""GitHub refuses an issue comment body longer than this many characters."""
PER_PAGE = 100
"""The most GitHub serves per page (its default is 30); `Link: rel="next"` is still followed."""
API_VERSION = "2022-11-28"

TOKEN_HELP = (
    "In GitHub Actions give the step `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` and the "
    "job `permissions: {pull-requests: write, issues: write}`; elsewhere export a token that "
    "may write to the repository's pull requests."
)

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


class GitHubError(Exception):
    """A GitHub API failure, as one message that names the request and the fix."""


class RateLimited(GitHubError):
    """GitHub's rate limit was hit and resets later than the client is willing to wait."""

    def __init__(self, message: str, resets_at: datetime | None) -> None:
        super().__init__(message)
        self.resets_at = resets_at


class NotFound(GitHubError):
    """404: the repository, pull request or comment does not exist for this token."""


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Repo:
        """`OWNER/NAME`; ValueError says what is wrong with it."""
        owner, slash, name = text.strip().partition("/")
        if not slash or not _OWNER.fullmatch(owner) or not _NAME.fullmatch(name):
            raise ValueError(
                f"{text!r} is not a GitHub repository: give OWNER/NAME, e.g. "
                "`--repo octo-org/app` (in GitHub Actions: `--repo ${{ github.repository }}`)"
            )
        if name in {".", ".."}:
            raise ValueError(f"{text!r} is not a GitHub repository name")
        return cls(owner, name)

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str
    """The login of who wrote it, e.g. `github-actions[bot]`."""
    html_url: str


@dataclass(frozen=True)
class Approval:
    """One review of a run's pending deployments."""

    state: str
    """`approved` or `rejected`."""
    login: str
    environments: tuple[str, ...]


class _Retry(Exception):
    """A response worth asking again: a server error, a dropped connection, a short rate limit."""

    def __init__(self, failure: GitHubError, wait: float | None = None) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.wait = wait
        """Seconds GitHub asked us to wait (rate limit); None: back off exponentially."""


class GitHubClient:
    """Issue comments of pull requests through the GitHub REST API.

    `max_rate_wait`: the longest rate-limit wait (seconds) sat out before retrying; a later
    reset is an error. `attempts` and `backoff` shape the retries of server errors.
    """

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_API_URL,
        *,
        max_rate_wait: float = 60.0,
        attempts: int = 4,
        backoff: float = 1.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise GitHubError(
                f"GITHUB_API_URL={base_url!r} is not an http(s) URL: unset it for "
                f"{DEFAULT_API_URL}, or give the API root of your GitHub Enterprise server "
                "(e.g. https://github.example.com/api/v3)"
            )
        self.base_url = base_url.rstrip("/")
        self._origin = (parts.scheme, parts.netloc)
        self.max_rate_wait = max_rate_wait
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "stageline",
            },
            timeout=timeout,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **options: Any) -> Self:
        """A client with the token in `GITHUB_TOKEN` and the API at `GITHUB_API_URL`."""
        env = os.environ if env is None else env
        token = env.get("GITHUB_TOKEN", "").strip()
        if not token:
            raise GitHubError(
                f"GITHUB_TOKEN is not set: it holds the token to post with. {TOKEN_HELP}"
            )
        return cls(token, env.get("GITHUB_API_URL") or DEFAULT_API_URL, **options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the four calls ------------------------------------------------------------------

    def list_comments(self, repo: Repo, pr: int) -> list[Comment]:
        """Every comment on the pull request, oldest first, across all pages."""
        what = f"list the comments of {repo}#{pr}"
        url: str | None = self._url(f"/repos/{repo.owner}/{repo.name}/issues/{pr}/comments")
        params: dict[str, int] | None = {"per_page": PER_PAGE}
        comments: list[Comment] = []
        seen: set[str] = set()
        while url is not None:
            response = self._request("GET", url, what, params=params)
            comments.extend(_comment(item) for item in _json_list(response, what))
            # The next page's URL carries the query already (GitHub's Link header).
            url, params = self._next_page(response, seen), None
        return comments

    def create_comment(self, repo: Repo, pr: int, body: str) -> Comment:
        what = f"comment on {repo}#{pr}"
        path = f"/repos/{repo.owner}/{repo.name}/issues/{pr}/comments"
        return _comment(self._request("POST", self._url(path), what, json={"body": body}).json())

    def edit_comment(self, repo: Repo, comment_id: int, body: str) -> Comment:
        what = f"edit comment {comment_id} on {repo}"
        path = f"/repos/{repo.owner}/{repo.name}/issues/comments/{comment_id}"
        return _comment(self._request("PATCH", self._url(path), what, json={"body": body}).json())

    def delete_comment(self, repo: Repo, comment_id: int) -> None:
        what = f"delete comment {comment_id} on {repo}"
        path = f"/repos/{repo.owner}/{repo.name}/issues/comments/{comment_id}"
        self._request("DELETE", self._url(path), what)

    def run_approvals(self, repo: Repo, run_id: int) -> list[Approval]:
        """Who approved the deployments of workflow run `run_id`, and for which environments
        (GitHub's environments with required reviewers)."""
        what = f"read the approvals of run {run_id} in {repo}"
        path = f"/repos/{repo.owner}/{repo.name}/actions/runs/{run_id}/approvals"
        found: list[Approval] = []
        for item in _json_list(self._request("GET", self._url(path), what), what):
            places = [e for e in item.get("environments") or () if isinstance(e, dict)]
            user = item.get("user") or {}
            found.append(
                Approval(
                    str(item.get("state", "")),
                    str(user.get("login", "")),
                    tuple(str(e.get("name", "")) for e in places),
                )
            )
        return found

    # -- requests, retries and errors ----------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _next_page(self, response: httpx.Response, seen: set[str]) -> str | None:
        url = response.links.get("next", {}).get("url")
        if url is None:
            return None
        parts = urlsplit(url)
        # The token goes only to the API it was given for, whatever a Link header says.
        if (parts.scheme, parts.netloc) != self._origin:
            raise GitHubError(
                f"GitHub's next page is on another host ({parts.netloc}); refusing to send "
                f"the token there. Is GITHUB_API_URL={self.base_url!r} right?"
            )
        if url in seen:
            raise GitHubError(f"GitHub's pages loop back to {url}: re-run the job")
        seen.add(url)
        return url

    def _request(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retry) and exc.wait is not None:
                return exc.wait
            return float(wait_exponential(multiplier=self.backoff, max=30)(state))

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            retry=retry_if_exception_type(_Retry),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, url, what, **kwargs)
        except _Retry as exc:
            raise exc.failure from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _once(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise _Retry(
                GitHubError(
                    f"could not {what}: cannot reach the GitHub API at {self.base_url} "
                    f"({type(exc).__name__}: {exc}) after {self.attempts} tries; check "
                    "GITHUB_API_URL and the network, then re-run"
                )
            ) from exc
        if response.is_success:
            return response
        raise self._failure(response, method, what)

    def _failure(self, response: httpx.Response, method: str, what: str) -> Exception:
        status = response.status_code
        message = _message(response)
        request = f"{method} {response.request.url.path}"
        limited = self._rate_limit(response, message)
        if limited is not None:
            return limited
        if status == 401:
            return GitHubError(
                f"could not {what}: GitHub rejected the token in GITHUB_TOKEN (401 {message}): "
                f"it is missing, expired, revoked or mistyped. {TOKEN_HELP}"
            )
        if status == 403:
            return GitHubError(
                f"could not {what}: GitHub refused {request} (403 {message}). The token needs "
                "`pull-requests: write` and `issues: write` on the repository: set the job's "
                "`permissions`, or use a token with that access (a pull request from a fork "
                "gets a read-only GITHUB_TOKEN)."
            )
        if status == 404:
            return NotFound(
                f"could not {what}: GitHub answered 404 {message} to {request}. Check --repo "
                "and --pr (the pull request must exist in that repository), and that the token "
                "can see the repository (a private repository answers 404 to a token without "
                "access; it needs `pull-requests: write` and `issues: write`)."
            )
        if status == 422:
            return GitHubError(
                f"could not {what}: GitHub refused the request as invalid (422 {message})"
            )
        if status >= 500:
            return _Retry(
                GitHubError(
                    f"could not {what}: GitHub answered {status} {message} to {request} "
                    f"{self.attempts} times; GitHub may be having trouble "
                    "(https://www.githubstatus.com): re-run the job later"
                )
            )
        return GitHubError(f"could not {what}: GitHub answered {status} {message} to {request}")

    def _rate_limit(self, response: httpx.Response, message: str) -> Exception | None:
        """The rate-limit failure, if that is what the response is; else None."""
        headers = response.headers
        status = response.status_code
        exhausted = headers.get("x-ratelimit-remaining") == "0"
        retry_after = _number(headers.get("retry-after"))
        secondary = "rate limit" in message.lower()
        if status not in {403, 429} or not (exhausted or retry_after is not None or secondary):
            return None
        now = self._clock()
        reset = _number(headers.get("x-ratelimit-reset"))
        if retry_after is not None:
            wait = retry_after
        elif exhausted and reset is not None:
            # A second past the reset: our clock and GitHub's may differ by that much.
            wait = max(0.0, reset - now) + 1.0
        else:
            # A secondary limit without a stated wait: GitHub asks for at least a minute.
            wait = 60.0
        resets_at = datetime.fromtimestamp(now + wait, UTC)
        when = f"{resets_at:%Y-%m-%d %H:%M:%S} UTC (in {_duration(wait)})"
        failure = RateLimited(
            f"GitHub is rate-limiting this token ({status} {message}); the limit resets at {when}. "
            "Re-run the job after that.",
            resets_at,
        )
        if wait <= self.max_rate_wait:
            return _Retry(failure, wait=wait)
        return failure


def _comment(item: Any) -> Comment:
    user = item.get("user") or {}
    return Comment(
        id=int(item["id"]),
        body=item.get("body") or "",
        author=str(user.get("login", "")),
        html_url=str(item.get("html_url", "")),
    )


def _json_list(response: httpx.Response, what: str) -> Iterator[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, list):
        raise GitHubError(f"could not {what}: GitHub's answer is not a list")
    return iter(data)


def _message(response: httpx.Response) -> str:
    """GitHub's own words for a failure: its `message`, with a 422's field errors."""
    reason = response.reason_phrase
    try:
        data = response.json()
    except ValueError:
        return reason
    if not isinstance(data, dict):
        return reason
    text = str(data.get("message") or reason)
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        details = [
            str(e.get("message") or f"{e.get('field')} {e.get('code')}")
            if isinstance(e, dict)
            else str(e)
            for e in errors
        ]
        text += ": " + "; ".join(details)
    return text


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
