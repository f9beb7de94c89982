"""A fake of the GitHub REST API's issue comments, served on loopback for the tests.

It is a fake because no real GitHub is reachable from these machines. It mimics what
`stageline ci comment` relies on, as GitHub documents it: token auth (401 `Bad credentials`),
read-only tokens (403 `Resource not accessible by integration`), unknown repositories and pull
requests (404 `Not Found`), bodies over 65,536 characters (422 `Validation Failed`), paging with
`per_page` (default 30, at most 100), `page` and a `Link` header (`first`, `prev`, `next`,
`last`), and, on demand, server errors and both kinds of rate limit (403 with
`x-ratelimit-remaining: 0` and `x-ratelimit-reset`, and 429 with `retry-after`).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

BODY_LIMIT = 65_536
DOCS = "https://docs.github.com/rest"

_PR_COMMENTS = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/issues/(?P<pr>\d+)/comments")
_APPROVALS = re.compile(
    r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/actions/runs/(?P<run>\d+)/approvals"
)
_ONE_COMMENT = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/issues/comments/(?P<id>\d+)")


@dataclass(frozen=True)
class Fault:
    """One injected answer, served instead of the next request's real one."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "Server Error"


@dataclass(frozen=True)
class Seen:
    """A request the fake answered (faults included)."""

    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass
class FakeGitHub:
    """The state behind the server: pull requests and their comments, tokens, faults."""

    url: str = ""
    tokens: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Token -> (login, may write)."""
    comments: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    approvals: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)
    """(owner, name, run id) -> the run's deployment reviews, as GitHub lists them."""
    max_per_page: int = 100
    """GitHub's cap on `per_page`; lower it to page a handful of comments."""
    seen: list[Seen] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_000_001, 7))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- set-up from a test ---------------------------------------------------------------

    def add_pull(self, repo: str, pr: int) -> None:
        owner, name = repo.split("/")
        self.comments.setdefault((owner, name, pr), [])

    def add_token(self, token: str, login: str, write: bool = True) -> None:
        self.tokens[token] = (login, write)

    def post(self, repo: str, pr: int, body: str, login: str = "reviewer") -> int:
        """A comment written by someone (not through the API under test)."""
        owner, name = repo.split("/")
        return self._create(owner, name, pr, body, login)["id"]

    def approve(
        self, repo: str, run_id: int, login: str, environment: str, state: str = "approved"
    ) -> None:
        owner, name = repo.split("/")
        self.approvals.setdefault((owner, name, run_id), []).append(
            {
                "state": state,
                "comment": "",
                "environments": [{"id": 1, "name": environment}],
                "user": {"login": login, "id": 7},
            }
        )

    def bodies(self, repo: str, pr: int) -> list[str]:
        owner, name = repo.split("/")
        return [c["body"] for c in self.comments[(owner, name, pr)]]

    def pull(self, repo: str, pr: int) -> list[dict[str, Any]]:
        owner, name = repo.split("/")
        return self.comments[(owner, name, pr)]

    def fail_next(self, count: int, status: int = 502) -> None:
        self.faults += [Fault(status, message="Bad Gateway")] * count

    def rate_limit_next(self, reset_in: float, count: int = 1) -> None:
        """The primary limit: 403, `x-ratelimit-remaining: 0`, reset `reset_in` s from now."""
        reset = str(int(time.time() + reset_in))
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000",
            "x-ratelimit-reset": reset,
        }
        message = "API rate limit exceeded for installation ID 1."
        self.faults += [Fault(403, headers, message)] * count

    def retry_after_next(self, seconds: int, count: int = 1) -> None:
        """A secondary limit: 429 with `retry-after`."""
        message = "You have exceeded a secondary rate limit. Please wait a few minutes."
        self.faults += [Fault(429, {"retry-after": str(seconds)}, message)] * count

    def writes(self) -> list[Seen]:
        return [s for s in self.seen if s.method != "GET" and s.status < 300]

    # -- the API --------------------------------------------------------------------------

    def _create(self, owner: str, name: str, pr: int, body: str, login: str) -> dict[str, Any]:
        comment_id = next(self._ids)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "html_url": f"https://github.com/{owner}/{name}/pull/{pr}#issuecomment-{comment_id}",
            "body": body,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "created_at": now,
            "updated_at": now,
        }
        self.comments[(owner, name, pr)].append(comment)
        return comment

    def handle(
        self, method: str, target: str, auth: str, payload: bytes
    ) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            status, headers, data = self._answer(method, parts.path, query, auth, payload)
            self.seen.append(Seen(method, parts.path, query, status))
        return status, headers, data

    def _answer(
        self, method: str, path: str, query: dict[str, str], auth: str, payload: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if self.faults:
            fault = self.faults.pop(0)
            return fault.status, fault.headers, _error(fault.message)
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in {"bearer", "token"} or token not in self.tokens:
            return 401, {}, _error("Bad credentials")
        login, may_write = self.tokens[token]
        if method != "GET" and not may_write:
            return 403, {}, _error("Resource not accessible by integration")
        if (found := _APPROVALS.fullmatch(path)) and method == "GET":
            key = (found["owner"], found["name"], int(found["run"]))
            return 200, {}, self.approvals.get(key, [])
        if found := _PR_COMMENTS.fullmatch(path):
            key = (found["owner"], found["name"], int(found["pr"]))
            if key not in self.comments:
                return 404, {}, _error("Not Found")
            if method == "GET":
                return self._page(path, query, self.comments[key])
            if method == "POST":
                body = _body(payload)
                if len(body) > BODY_LIMIT:
                    return _too_long()
                return 201, {}, self._create(*key, body, login)
        elif found := _ONE_COMMENT.fullmatch(path):
            comment_id = int(found["id"])
            for (owner, name, _pr), comments in self.comments.items():
                if (owner, name) != (found["owner"], found["name"]):
                    continue
                for comment in comments:
                    if comment["id"] != comment_id:
                        continue
                    if method == "PATCH":
                        body = _body(payload)
                        if len(body) > BODY_LIMIT:
                            return _too_long()
                        comment["body"] = body
                        return 200, {}, comment
                    if method == "DELETE":
                        comments.remove(comment)
                        return 204, {}, None
            return 404, {}, _error("Not Found")
        return 404, {}, _error("Not Found")

    def _page(
        self, path: str, query: dict[str, str], comments: list[dict[str, Any]]
    ) -> tuple[int, dict[str, str], Any]:
        per_page = min(int(query.get("per_page", 30)), self.max_per_page)
        page = max(int(query.get("page", 1)), 1)
        last = max(1, -(-len(comments) // per_page))

        def link(number: int) -> str:
            return f"{self.url}{path}?{urlencode({'per_page': per_page, 'page': number})}"

        rels = []
        if page > 1:
            rels += [f'<{link(page - 1)}>; rel="prev"']
        if page < last:
            rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
        if page > 1:
            rels += [f'<{link(1)}>; rel="first"']
        headers = {"Link": ", ".join(rels)} if rels else {}
        return 200, headers, comments[(page - 1) * per_page : page * per_page]


def _error(message: str) -> dict[str, str]:
    return {"message": message, "documentation_url": DOCS}


def _too_long() -> tuple[int, dict[str, str], Any]:
    return (
        422,
        {},
        {
            "message": "Validation Failed",
            "errors": [
                {
                    "resource": "IssueComment",
                    "code": "custom",
                    "field": "body",
                    "message": f"body is too long (maximum is {BODY_LIMIT} characters)",
                }
            ],
            "documentation_url": DOCS,
        },
    )


def _body(payload: bytes) -> str:
    return str(json.loads(payload or b"{}").get("body", ""))


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(size) if size else b""
            status, headers, data = fake.handle(
                self.command, self.path, self.headers.get("Authorization", ""), payload
            )
            content = b"" if data is None else json.dumps(data).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if data is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests assert on `fake.seen`, not on a log

    return Handler


@contextmanager
def serve() -> Iterator[FakeGitHub]:
    """A running fake on 127.0.0.1 (a free port); `fake.url` is its API root."""
    fake = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
