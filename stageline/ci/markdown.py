"""The preview report as reviewers read it: one markdown summary, the same split into pull
request comments within GitHub's size limit, and a compact terminal view.

Everything here is a pure function of the report: no clock, no environment, every list in a
fixed order, so one report always gives the same text (golden files stay stable).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from stageline.ci.flags import (
    FLAG_KINDS,
    Flag,
    FlagKind,
    data_replaced,
    flags,
    protected_deleted,
    resource_name,
)
from stageline.ci.github import GITHUB_COMMENT_LIMIT
from stageline.ci.report import OPS, Op, PreviewReport, ResourceChange, StageReport

TITLE = "stageline preview"

# Markdown that a resource's name or message could use to break a table (|), start emphasis,
# code, links, strikethrough or math; `<`, `>` and `&` become entities, so no HTML gets through.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
# Control characters (a terminal escape, a NUL) and the bidirectional overrides that make text
# read differently from what it is: shown as \xNN / \uNNNN instead of acting.
_HIDDEN = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)
_BREAKS = re.compile(r"[\t\r\n]+")

# Reviewers read destructive changes first.
_OP_ORDER: dict[Op, int] = {"replace": 0, "delete": 1, "update": 2, "create": 3}

_KIND_PLURAL: dict[FlagKind, str] = {
    "failed": "failed preview",
    "data-replaced": "data resources replaced (their data is lost)",
    "protected-deleted": "protected resources deleted or replaced",
    "mandatory-violation": "mandatory policy violations",
}


def plain(text: str) -> str:
    """One line of text with nothing that acts on a terminal (control characters shown)."""

    def shown(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _HIDDEN.sub(shown, _BREAKS.sub(" ", text)).strip()


def escape(text: str) -> str:
    """`text` as literal markdown inline content: one line, no markup, no HTML, safe in a table."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", plain(text)), quote=False)


def code_span(text: str) -> str:
    """`text` in backticks, whatever backticks it holds (as CommonMark allows), safe in a table."""
    text = plain(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    # GitHub splits table cells at `|` even inside code; `\|` is kept as `|` there.
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def short_digest(digest: str) -> str:
    """The first 12 characters of the hash, without an algorithm prefix (`sha256:`)."""
    return digest.rsplit(":", 1)[-1][:12]


def op_counts(stage: StageReport) -> dict[Op, int]:
    """The stage's counts; an op the counts leave out is counted from its changes."""
    return {
        op: stage.counts[op] if op in stage.counts else sum(c.op == op for c in stage.changes)
        for op in OPS
    }


def sorted_changes(stage: StageReport) -> list[ResourceChange]:
    return sorted(stage.changes, key=lambda c: (_OP_ORDER[c.op], c.name, c.urn))


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table_header(columns: Sequence[str], numeric: Sequence[bool] = ()) -> tuple[str, str]:
    aligns = [("---:" if i < len(numeric) and numeric[i] else "---") for i in range(len(columns))]
    return _row(columns), _row(aligns)


# -- the head: title, selection, flags, table -----------------------------------------------


@dataclass(frozen=True)
class _Level:
    """How much of the head is spelled out; each step down keeps to a smaller budget."""

    digest: bool = True
    flag_list: bool = True
    notes: bool = True

    def shortened(self) -> list[str]:
        said = []
        if not self.digest:
            said.append("the digest column is left out (each stage's digest is in its details)")
        if not self.flag_list:
            said.append(
                "flags are counted per stage (each one is marked **flag** in its stage's details)"
            )
        if not self.notes:
            said.append("why a stage was previewed offline is in its details, not the table")
        return said


_LEVELS = (
    _Level(),
    _Level(digest=False),
    _Level(digest=False, flag_list=False),
    _Level(digest=False, flag_list=False, notes=False),
)


def _title(report: PreviewReport) -> str:
    changes = sum(sum(op_counts(s).values()) for s in report.stages)
    return f"## {TITLE}: {_n(len(report.stages), 'stage')}, {_n(changes, 'change')}"


def _selection(report: PreviewReport) -> str:
    selection = report.selection
    since = f" (changes since {code_span(selection.base)})" if selection.base else ""
    said: list[str] = []
    if selection.summary:
        said.append(escape(selection.summary.rstrip(".")) + ".")
    if not report.stages:
        if not selection.summary:
            said.append("No stage is affected.")
        said.append("No stage was previewed.")
        return f"**Selection**{since}: " + " ".join(said)
    # Stages grouped by reason, in graph order: "all stages: components/ changed" reads once.
    groups: dict[str, list[str]] = {}
    for stage in report.stages:
        reason = selection.reasons.get(stage.stage, "")
        groups.setdefault(reason, []).append(stage.stage)
    reasons = "; ".join(
        ", ".join(escape(s) for s in stages) + (f" ({escape(reason)})" if reason else "")
        for reason, stages in groups.items()
    )
    if selection.base is None and not any(selection.reasons.values()):
        reasons = "every stage: " + reasons
    said.append(reasons + ".")
    return f"**Selection**{since}: " + " ".join(said)


def _flag_line(flag: Flag) -> str:
    if flag.kind == "failed":
        return f"> - **{escape(flag.stage)}**: {escape(flag.detail)}"
    what = escape(flag.subject) + (f" ({escape(flag.type)})" if flag.type else "")
    return f"> - **{escape(flag.stage)}**: {what}: {escape(flag.detail)}"


def _flags_block(report: PreviewReport, found: list[Flag], level: _Level) -> str:
    if not found:
        return (
            "> [!NOTE]\n> No flags: no data resource is replaced, no protected resource is "
            "deleted, every stage previewed, no mandatory policy is violated."
        )
    lines = ["> [!CAUTION]", f"> **{_n(len(found), 'flag')}: look at these first**", ">"]
    if level.flag_list:
        lines += [_flag_line(f) for f in found]
    else:
        counted = Counter((f.kind, f.stage) for f in found)
        order = {s.stage: i for i, s in enumerate(report.stages)}
        for kind, stage in sorted(counted, key=lambda k: (FLAG_KINDS.index(k[0]), order[k[1]])):
            lines.append(f"> - **{escape(stage)}**: {counted[kind, stage]:,} {_KIND_PLURAL[kind]}")
    return "\n".join(lines)


def _previewed(stage: StageReport, notes: bool) -> str:
    if stage.source == "engine":
        how = "engine" + (f": {escape(stage.note)}" if stage.note and notes else "")
    elif stage.note:
        how = f"offline plan: {escape(stage.note)}" if notes else "offline plan (why: see details)"
    else:
        how = "offline plan"
    return how + (", **failed**" if stage.error is not None else "")


def _current(stage: StageReport) -> str:
    """The release running now: unknown to an offline plan, which never reads state."""
    if stage.release is not None and stage.release.current is not None:
        return stage.release.current
    return "(unknown)" if stage.source == "offline" else "(none)"


def _versions(stage: StageReport) -> str:
    release = stage.release
    if release is None:
        return "—"
    current = escape(_current(stage))
    planned = escape(release.planned)
    return f"{planned} (unchanged)" if current == planned else f"{current} → {planned}"


def _release(stage: StageReport) -> str:
    text = _versions(stage)
    if stage.chained_from:
        text += f", chained from {escape(stage.chained_from)}"
    return text


def _digest_cell(stage: StageReport) -> str:
    return code_span(short_digest(stage.digest)) if stage.digest else "—"


def _pair(first: int, second: int) -> str:
    return (f"**{first:,}**" if first else "0") + f" / {second:,}"


def _table(report: PreviewReport, level: _Level) -> str:
    columns = ["stage", "target", "previewed", "release", "create", "update", "replace", "delete"]
    columns += ["policy: mandatory / advisory", "parity: structural / expected"]
    columns += ["digest"] if level.digest else []
    numeric = [False] * 4 + [True] * 6
    lines = list(_table_header(columns, numeric))
    for stage in report.stages:
        counts = op_counts(stage)
        failed = stage.error is not None and not stage.changes
        mandatory = sum(v.level == "mandatory" for v in stage.violations)
        structural = sum(p.kind == "structural" for p in stage.parity)
        cells = [escape(stage.stage), escape(stage.target), _previewed(stage, level.notes)]
        cells.append(_release(stage))
        cells += ["—" if failed else f"{counts[op]:,}" for op in OPS]
        cells.append(_pair(mandatory, len(stage.violations) - mandatory))
        cells.append(_pair(structural, len(stage.parity) - structural))
        cells += [_digest_cell(stage)] if level.digest else []
        lines.append(_row(cells))
    return "\n".join(lines)


def _head(report: PreviewReport, found: list[Flag], level: _Level, budget: int) -> str:
    parts = [_title(report), _selection(report), _flags_block(report, found, level)]
    if report.stages:
        parts.append(_table(report, level))
    shortened = level.shortened()
    if shortened:
        parts.append(
            f"_To keep this comment within {budget:,} characters: {'; '.join(shortened)}._"
        )
    return "\n\n".join(parts)


# -- one stage's details ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Section:
    """A run of rows under a heading; a part of a split stage repeats heading and header."""

    title: str
    rows: tuple[str, ...]
    header: tuple[str, ...] = ()
    closing: tuple[str, ...] = ()
    noun: str = ""
    """What a row is (`change`); empty: the heading neither counts rows nor gives a range."""

    def heading(self, start: int, end: int, split: bool) -> str:
        if not self.noun:
            return f"**{self.title}**" + (" (continued)" if split and start else "")
        total = len(self.rows)
        if split and (start, end) != (0, total):
            return f"**{self.title}** ({self.noun}s {start + 1:,} to {end:,} of {total:,})"
        return f"**{self.title}** ({total:,})"

    def lines(self, start: int, rows: Sequence[str], split: bool) -> list[str]:
        head = [self.heading(start, start + len(rows), split), ""] if self.title else []
        return [*head, *self.header, *rows, *self.closing]

    def reserve(self) -> int:
        """The most the heading, header and closing take in any part, with their newlines."""
        total = len(self.rows)
        widest = self.heading(max(total - 1, 0), total, True) if self.title else ""
        fixed = [widest, ""] if self.title else []
        return sum(len(line) + 1 for line in [*fixed, *self.header, *self.closing]) + 1


def _flag_cell(change: ResourceChange) -> str:
    marks = []
    if data_replaced(change):
        marks.append("**flag**: data lost")
    if protected_deleted(change):
        marks.append("**flag**: protected")
    return ", ".join(marks)


def _keys(keys: Sequence[str]) -> str:
    return ", ".join(escape(k) for k in sorted(keys))


def _changes(stage: StageReport) -> _Section:
    columns = ["op", "name", "type", "changed keys", "replace keys", "flag"]
    rows = tuple(
        _row(
            [
                c.op,
                escape(c.name),
                escape(c.type),
                _keys(c.diff),
                _keys(c.replace_keys),
                _flag_cell(c),
            ]
        )
        for c in sorted_changes(stage)
    )
    return _Section("Changes", rows, _table_header(columns), noun="change")


def _violations(stage: StageReport) -> _Section:
    columns = ["level", "policy", "resource", "type", "message", "fix"]
    ordered = sorted(
        stage.violations, key=lambda v: (v.level != "mandatory", v.urn, v.policy, v.message)
    )
    rows = tuple(
        _row(
            [
                "**mandatory**" if v.level == "mandatory" else "advisory",
                escape(v.policy),
                escape(resource_name(v.urn)),
                escape(v.type),
                escape(v.message),
                escape(v.fix),
            ]
        )
        for v in ordered
    )
    return _Section("Policy violations", rows, _table_header(columns), noun="violation")


def _parity(stage: StageReport, kind: str, title: str) -> _Section:
    items = sorted((p for p in stage.parity if p.kind == kind), key=lambda p: (p.peer, p.subject))
    rows = tuple(_row([escape(p.peer), escape(p.subject), escape(p.detail)]) for p in items)
    return _Section(title, rows, _table_header(["peer", "subject", "detail"]), noun="item")


def _error(message: str) -> _Section:
    lines = message.strip().splitlines() or ["(no message)"]
    # A fence longer than any run of backticks in the message, so the message cannot close it.
    longest = max((len(run) for run in re.findall(r"`+", message)), default=0)
    fence = "`" * max(3, longest + 1)
    rows = tuple(_HIDDEN.sub("?", line.rstrip()) for line in lines)
    return _Section("Error", rows, (fence + "text",), (fence,))


def _intro(report: PreviewReport, stage: StageReport) -> _Section:
    items = [f"- Target: {escape(stage.target)}", f"- Previewed: {_previewed(stage, True)}"]
    if stage.release is not None:
        source = f" ({escape(stage.release.source)})" if stage.release.source else ""
        items.append(f"- Release: {_versions(stage)}{source}")
    if stage.chained_from:
        upstream = escape(stage.chained_from)
        items.append(
            f"- Chained from {upstream}: previewed against {upstream}'s planned outputs, "
            f"as it will be once {upstream} is promoted"
        )
    reason = report.selection.reasons.get(stage.stage)
    if reason:
        items.append(f"- Selected because: {escape(reason)}")
    if stage.digest:
        items.append(f"- Approval digest: {code_span(stage.digest)}")
    if not stage.changes and stage.error is None:
        items.append("- No resource changes.")
    return _Section("", tuple(items))


def _summary_label(stage: StageReport) -> str:
    counts = op_counts(stage)
    said = ", ".join(f"{counts[op]:,} {op}" for op in OPS)
    if stage.error is not None:
        said = "failed" + (f"; {said}" if stage.changes else "")
    mandatory = sum(v.level == "mandatory" for v in stage.violations)
    if mandatory:
        said += f"; {_n(mandatory, 'mandatory violation')}"
    return f"<b>{html.escape(plain(stage.stage))}</b>: {said}"


@dataclass(frozen=True)
class _Details:
    stage: str
    label: str
    sections: tuple[_Section, ...]

    def part(self, spans: Sequence[tuple[int, int, Sequence[str]]], label: str) -> str:
        split = spans != self.whole()
        lines = [f"<details><summary>{label}</summary>", ""]
        for index, start, rows in spans:
            lines += [*self.sections[index].lines(start, rows, split), ""]
        return "\n".join([*lines, "</details>"])

    def whole(self) -> list[tuple[int, int, Sequence[str]]]:
        return [(i, 0, s.rows) for i, s in enumerate(self.sections)]

    def render(self) -> str:
        return self.part(self.whole(), self.label)

    def labels(self) -> tuple[str, str, str]:
        """First, middle and last part's label of a split stage."""
        name = f"<b>{html.escape(plain(self.stage))}</b>"
        return (
            f"{self.label} (split: continues in the next comment)",
            f"{name} (continued; continues in the next comment)",
            f"{name} (continued, end)",
        )


def _details(report: PreviewReport, stage: StageReport) -> _Details:
    sections = [
        _intro(report, stage),
        _changes(stage),
        _violations(stage),
        _parity(stage, "structural", "Parity: structural drift"),
        _parity(stage, "expected", "Parity: expected differences"),
    ]
    if stage.error is not None:
        sections.append(_error(stage.error))
    return _Details(stage.stage, _summary_label(stage), tuple(s for s in sections if s.rows))


def _whole(report: PreviewReport, found: list[Flag], blocks: list[str]) -> str:
    return "\n\n".join([_head(report, found, _LEVELS[0], GITHUB_COMMENT_LIMIT), *blocks]) + "\n"


def render_summary(report: PreviewReport) -> str:
    """The whole summary as one markdown document (no size budget: see render_comments)."""
    blocks = [_details(report, s).render() for s in report.stages]
    return _whole(report, flags(report), blocks)


# -- comments within a budget -----------------------------------------------------------------

_SEP = "\n\n"


def _cut(row: str, room: int) -> str:
    """`row` cut to `room` characters, saying in place how much was cut."""
    gone_max = len(row)
    marker = " … (line cut here: {:,} more characters; the whole line is in the JSON report)"
    keep = room - len(marker.format(gone_max))
    if keep < 1:
        raise ValueError(f"a comment budget of this size cannot hold even a cut line ({room})")
    text = row[:keep]
    # Do not end inside an escape (`\|`) or an entity (`&amp;`): the marker would change it.
    if (len(text) - len(text.rstrip("\\"))) % 2:
        text = text[:-1]
    amp = text.rfind("&")
    if amp != -1 and ";" not in text[amp:]:
        text = text[:amp]
    return text + marker.format(len(row) - len(text))


Spans = list[tuple[int, int, list[str]]]


def _split(details: _Details, first_room: int, room: int) -> list[Spans | None]:
    """A stage's details in parts at row boundaries: the first part within first_room (None
    when not even one row fits there), each other within room."""
    overhead = (
        max(len(f"<details><summary>{label}</summary>") for label in details.labels())
        + 2
        + len("</details>")
    )
    parts: list[Spans | None] = []
    spans: Spans = []
    cap, used = first_room, overhead
    for index, section in enumerate(details.sections):
        for position, row in enumerate(section.rows):
            opened = bool(spans) and spans[-1][0] == index
            cost = len(row) + 1 + (0 if opened else section.reserve())
            if used + cost > cap:
                parts.append(spans or None)
                spans, cap, used = [], room, overhead
                opened = False
                cost = len(row) + 1 + section.reserve()
                if used + cost > cap:
                    row = _cut(row, cap - used - section.reserve() - 1)
                    cost = len(row) + 1 + section.reserve()
            if opened:
                spans[-1][2].append(row)
            else:
                spans.append((index, position, [row]))
            used += cost
    parts.append(spans)
    return parts


def _continued(index: int, total: int) -> str:
    return (
        f"**{TITLE}, continued {index}/{total}**: the summary table and the flags are in "
        f"comment 1/{total}."
    )


def _more(total: int) -> str:
    if total == 2:
        return "_The details continue in comment 2/2._"
    return f"_The details continue in comments 2/{total} to {total}/{total}._"


def _pack(
    report: PreviewReport,
    found: list[Flag],
    stages: list[tuple[_Details, str]],
    budget: int,
    digits: int,
) -> list[str]:
    widest = 10**digits - 1
    footer = max(len(_more(widest)), len(_more(2))) + len(_SEP)
    header = len(_continued(widest, widest)) + len(_SEP)
    usable = budget - 1  # every body ends with a newline
    for level in _LEVELS:
        head = _head(report, found, level, budget)
        if len(head) + footer <= usable:
            break
    else:
        raise ValueError(
            f"a comment budget of {budget:,} characters cannot hold the summary table and "
            f"flags even shortened ({len(head) + footer:,} needed): raise the budget"
        )
    bodies: list[list[str]] = [[head]]
    used = [len(head)]
    caps = [usable - footer]

    def room() -> int:
        return caps[-1] - used[-1] - len(_SEP)

    def add(block: str, fresh: bool) -> None:
        if fresh:
            bodies.append([])
            used.append(header - len(_SEP))
            caps.append(usable)
        bodies[-1].append(block)
        used[-1] += len(_SEP) + len(block)

    fresh_room = usable - header
    for details, block in stages:
        if len(block) <= room():
            add(block, fresh=False)
            continue
        if len(block) <= fresh_room:
            add(block, fresh=True)
            continue
        parts = _split(details, room(), fresh_room)
        first, middle, last = details.labels()
        for number, spans in enumerate(parts):
            if spans is None:
                continue
            label = first if number == 0 or (parts[0] is None and number == 1) else middle
            label = last if number == len(parts) - 1 else label
            add(details.part(spans, label), fresh=number > 0)
    total = len(bodies)
    if len(str(total)) > digits:
        return []
    rendered = []
    for index, blocks in enumerate(bodies, start=1):
        if index == 1:
            blocks = [*blocks, _more(total)] if total > 1 else blocks
        else:
            blocks = [_continued(index, total), *blocks]
        rendered.append(_SEP.join(blocks) + "\n")
    return rendered


def render_comments(report: PreviewReport, budget: int = GITHUB_COMMENT_LIMIT) -> list[str]:
    """The summary as pull request comment bodies, each at most `budget` characters.

    The first body holds the title, the flags and the whole table (shortened, and saying so,
    if it would not fit otherwise); the stages' details follow while they fit, then spill into
    numbered continuation bodies. A stage too long for one body is split between rows. Nothing
    is dropped: a single line longer than a body is cut, saying so in place. ValueError when
    the budget cannot hold even the shortened table.
    """
    found = flags(report)
    stages = [(d, d.render()) for d in (_details(report, s) for s in report.stages)]
    whole = _whole(report, found, [block for _, block in stages])
    if len(whole) <= budget:
        return [whole]
    for digits in range(1, 10):
        bodies = _pack(report, found, stages, budget, digits)
        if bodies:
            break
    for index, body in enumerate(bodies, start=1):
        if len(body) > budget:
            raise RuntimeError(f"comment {index} is {len(body):,} characters, over {budget:,}")
    return bodies


# -- terminal -----------------------------------------------------------------------------------


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def render_text(report: PreviewReport) -> str:
    """A compact terminal view: selection, flags, one line per stage, notes and errors."""
    title = _title(report).removeprefix("## ")
    selection = report.selection
    lines = [title]
    since = f" since {plain(selection.base)}" if selection.base else ""
    if selection.summary or not report.stages:
        lines.append(f"selection{since}: {plain(selection.summary or 'no stage is affected')}")
    elif since:
        lines.append(f"selection{since}: {', '.join(s.stage for s in report.stages)}")
    found = flags(report)
    lines.append(f"flags: {len(found)}" if found else "flags: none")
    lines += [f"  ! {plain(f.text)}" for f in found]
    if report.stages:
        rows = [["stage", "target", "previewed", "release", *OPS, "policy m/a", "parity s/e"]]
        rows[0].append("digest")
        for stage in report.stages:
            counts = op_counts(stage)
            failed = stage.error is not None and not stage.changes
            mandatory = sum(v.level == "mandatory" for v in stage.violations)
            structural = sum(p.kind == "structural" for p in stage.parity)
            how = "engine" if stage.source == "engine" else "offline"
            release = "-"
            if stage.release is not None:
                release = f"{_current(stage)} -> {stage.release.planned}"
            if stage.chained_from:
                release += f" (chained from {stage.chained_from})"
            row = [stage.stage, stage.target, how + (" FAILED" if stage.error else ""), release]
            row += ["-" if failed else str(counts[op]) for op in OPS]
            row += [f"{mandatory}/{len(stage.violations) - mandatory}"]
            row += [f"{structural}/{len(stage.parity) - structural}"]
            row += [short_digest(stage.digest) or "-"]
            rows.append([plain(cell) for cell in row])
        lines += ["", *_columns(rows)]
    notes = [f"  {plain(s.stage)}: {plain(s.note)}" for s in report.stages if s.note]
    if notes:
        lines += ["", "notes:", *notes]
    errors = [s for s in report.stages if s.error is not None]
    if errors:
        lines += ["", "errors:"]
        for stage in errors:
            message = stage.error or ""
            lines += [f"  {plain(stage.stage)}:"]
            lines += [
                f"    {_HIDDEN.sub('?', line.rstrip())}" for line in message.strip().splitlines()
            ]
    return "\n".join(lines) + "\n"
