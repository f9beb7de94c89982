"""The preview summary on a pull request: one summary comment and its numbered continuations,
kept up to date in place, plus the job's step summary.

stageline finds its own comments by a hidden marker on their first line,
`<!-- stageline:preview part 2 -->`. Only a comment whose body *starts* with such a marker is
ever edited or deleted: a reviewer who quotes our comment (`> <!-- ...`), or pastes the marker
into a code block or mid-text, starts their comment with something else, so it is left alone.

Our comments are matched to the new parts by position (oldest first), not by the part number
they carry: the summary then always stays the first of them in the conversation, even if a
reviewer deleted one, and a duplicate left by two concurrent jobs is cleaned up as a surplus.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from stageline.ci.github import GITHUB_COMMENT_LIMIT, Comment, NotFound, Repo

MARKER_RESERVE = 64
"""Characters of a comment body kept for the marker line: render with
`budget = GITHUB_COMMENT_LIMIT - MARKER_RESERVE` and the marked body still fits GitHub's limit."""
COMMENT_BUDGET = GITHUB_COMMENT_LIMIT - MARKER_RESERVE

STEP_SUMMARY_LIMIT = 1024 * 1024
"""GitHub shows at most 1 MiB of a step's summary (`$GITHUB_STEP_SUMMARY`), in bytes."""

_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
_MARKER = re.compile(r"<!-- stageline:(?P<key>[a-z0-9][a-z0-9._-]{0,31}) part (?P<part>[0-9]+) -->")


class CommentClient(Protocol):
    """What syncing needs of a GitHub client (`stageline.ci.github.GitHubClient`)."""

    def list_comments(self, repo: Repo, pr: int) -> list[Comment]: ...
    def create_comment(self, repo: Repo, pr: int, body: str) -> Comment: ...
    def edit_comment(self, repo: Repo, comment_id: int, body: str) -> Comment: ...
    def delete_comment(self, repo: Repo, comment_id: int) -> None: ...


@dataclass(frozen=True)
class SyncResult:
    repo: Repo
    pr: int
    edited: tuple[int, ...]
    """Ids of our comments whose body changed."""
    unchanged: tuple[int, ...]
    """Ids of our comments that already said the same (not edited, so not marked edited)."""
    created: tuple[int, ...]
    deleted: tuple[int, ...]
    """Ids of surplus continuations removed (the summary shrank)."""
    urls: tuple[str, ...]
    """The comments now on the pull request, in part order; the first is the summary."""

    def describe(self) -> str:
        line = (
            f"edited {len(self.edited)}, created {len(self.created)}, deleted "
            f"{len(self.deleted)} comments on {self.repo}#{self.pr}"
        )
        if self.unchanged:
            line += f" ({len(self.unchanged)} already up to date)"
        return line


def marker(key: str, part: int) -> str:
    """The hidden first line of part `part` (1 = the summary) of the comments named `key`."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"comment key {key!r}: use up to 32 of a-z, 0-9, '.', '_', '-'")
    if not 1 <= part <= 99_999:
        raise ValueError(f"comment part {part} is out of range 1..99999")
    line = f"<!-- stageline:{key} part {part} -->\n"
    # The reserve is what the caller's budget leaves free; a longer marker would not fit.
    assert len(line) <= MARKER_RESERVE, line
    return line


def ours(comment: Comment, key: str) -> bool:
    """Whether `comment` is one stageline wrote under `key`: its body starts with the marker."""
    found = _MARKER.match(comment.body)
    # GitHub's editor saves CRLF: a comment someone edited by hand is still ours.
    rest = comment.body[found.end() :] if found else ""
    return found is not None and found["key"] == key and rest.startswith(("\n", "\r\n"))


def sync_comments(
    client: CommentClient,
    repo: Repo,
    pr: int,
    bodies: Sequence[str],
    key: str = "preview",
) -> SyncResult:
    """Make the pull request show `bodies` (summary first) as stageline's `key` comments.

    Earlier ones are edited in place, missing ones created after them, and surplus ones
    deleted. Each body must fit `COMMENT_BUDGET`; that is checked before any request.
    """
    if not bodies:
        raise ValueError("no comment to post: the summary (part 1) is required")
    for part, body in enumerate(bodies, 1):
        if len(body) > COMMENT_BUDGET:
            raise ValueError(
                f"comment part {part} is {len(body)} characters, over the budget of "
                f"{COMMENT_BUDGET} (GitHub's {GITHUB_COMMENT_LIMIT} less {MARKER_RESERVE} for "
                "the marker): render it with budget=COMMENT_BUDGET"
            )
    marked = [marker(key, part) + body for part, body in enumerate(bodies, 1)]
    existing = sorted(
        (c for c in client.list_comments(repo, pr) if ours(c, key)), key=lambda c: c.id
    )
    edited: list[int] = []
    unchanged: list[int] = []
    created: list[int] = []
    deleted: list[int] = []
    urls: list[str] = []
    for old, body in zip(existing, marked, strict=False):
        if old.body == body:
            unchanged.append(old.id)
            urls.append(old.html_url)
        else:
            new = client.edit_comment(repo, old.id, body)
            edited.append(new.id)
            urls.append(new.html_url)
    for body in marked[len(existing) :]:
        new = client.create_comment(repo, pr, body)
        created.append(new.id)
        urls.append(new.html_url)
    for old in existing[len(marked) :]:
        # NotFound: someone deleted it since we listed, which is what we wanted.
        with suppress(NotFound):
            client.delete_comment(repo, old.id)
        deleted.append(old.id)
    return SyncResult(
        repo, pr, tuple(edited), tuple(unchanged), tuple(created), tuple(deleted), tuple(urls)
    )


def write_step_summary(
    markdown: str,
    pointer: str,
    env: Mapping[str, str] | None = None,
    limit: int = STEP_SUMMARY_LIMIT,
) -> Path | None:
    """Append `markdown` to the file `$GITHUB_STEP_SUMMARY` names; None when it is unset.

    GitHub drops a step summary over `limit` bytes (1 MiB), so what is already in the file
    counts, and a longer summary is cut at a line, with open code blocks and `<details>`
    closed and a note sending the reader to `pointer` (the pull request comment) for the rest.
    """
    env = os.environ if env is None else env
    name = env.get("GITHUB_STEP_SUMMARY", "").strip()
    if not name:
        return None
    path = Path(name)
    try:
        used = path.stat().st_size if path.exists() else 0
        text = fit_summary(
            markdown if markdown.endswith("\n") else markdown + "\n", limit - used, pointer
        )
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise OSError(
            f"cannot write the step summary to GITHUB_STEP_SUMMARY={name}: {exc.strerror or exc}"
        ) from exc
    return path


def fit_summary(markdown: str, room: int, pointer: str) -> str:
    """`markdown` if it fits `room` UTF-8 bytes, else its head cut cleanly, with the note."""
    if len(markdown.encode()) <= room:
        return markdown
    note = (
        "\n\n> [!NOTE]\n> The summary was cut here: GitHub keeps 1 MiB of a step summary. "
        f"The full summary is in the pull request comment: {pointer}\n"
    )
    head_room = room - len(note.encode()) - _closers_room(markdown)
    if head_room <= 0:
        return note.lstrip("\n") if len(note.lstrip("\n").encode()) <= room else ""
    head = markdown.encode()[:head_room].decode(errors="ignore")
    head = head[: head.rfind("\n") + 1] if "\n" in head else ""
    return head + _closers(head) + note


def _closers(head: str) -> str:
    """What closes the code block and `<details>` sections left open at the end of `head`."""
    fence = False
    depth = 0
    for line in head.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = not fence
        elif not fence:
            depth += stripped.count("<details") - stripped.count("</details>")
    return ("```\n" if fence else "") + "</details>\n" * max(0, depth)


def _closers_room(markdown: str) -> int:
    """An upper bound on `_closers` of any head of `markdown`."""
    return len("```\n") + len("</details>\n") * markdown.count("<details")
