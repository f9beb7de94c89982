"""The CI preview summary: flags, the markdown summary, PR comments within a budget, the
terminal view and the JSON report.

Golden files live in tests/unit/golden/. After an intended change to the output, regenerate
them and review the diff:

    STAGELINE_UPDATE_GOLDEN=1 PYTHONPATH=$PWD .venv/bin/python -m pytest \
        tests/unit/test_ci_summary.py -p no:cacheprovider

The budget tests count characters, never time.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
from pathlib import Path

import pytest

from stageline.ci.flags import flags
from stageline.ci.github import GITHUB_COMMENT_LIMIT as COMMENT_BUDGET
from stageline.ci.markdown import (
    escape,
    render_comments,
    render_summary,
    render_text,
)
from stageline.ci.report import (
    ParityItem,
    PreviewReport,
    ReleaseChange,
    ResourceChange,
    Selection,
    StageReport,
    Violation,
    load_report,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("STAGELINE_UPDATE_GOLDEN") == "1"

ENV = "stageline:environment:EnvironmentTemplate"
VOLUME = "pulumi-python:dynamic/libvirt:Volume"
DOMAIN = "pulumi-python:dynamic/libvirt:Domain"
RDS = "aws:rds/instance:Instance"
BUCKET = "aws:s3/bucket:Bucket"
SG_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ASG = "aws:autoscaling/group:Group"


def urn(stage: str, component: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{stage}::stageline::{ENV}${component}${type_}::{name}"


def change(
    stage: str, component: str, type_: str, name: str, op: str, **kw: object
) -> ResourceChange:
    return ResourceChange.model_validate(
        {"urn": urn(stage, component, type_, name), "type": type_, "name": name, "op": op, **kw}
    )


def digest(changes: tuple[ResourceChange, ...]) -> str:
    text = "\n".join(f"{c.urn} {c.op} {','.join(c.diff)}" for c in changes)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def counts(changes: tuple[ResourceChange, ...]) -> dict[str, int]:
    found = {"create": 0, "update": 0, "replace": 0, "delete": 0}
    for c in changes:
        found[c.op] += 1
    return found


def stage_report(
    stage: str, target: str, changes: tuple[ResourceChange, ...] = (), **kw: object
) -> StageReport:
    fields: dict[str, object] = {"source": "engine", **kw}
    return StageReport.model_validate(
        {
            "stage": stage,
            "target": target,
            "counts": counts(changes),
            "changes": changes,
            "digest": digest(changes) if changes else "",
            **fields,
        }
    )


DB = "stageline:database:LibvirtDatabase"
COMPUTE = "stageline:compute:LibvirtCompute"


def sample_report() -> PreviewReport:
    """A pull request that bumps the release on local and changes components: libvirt and aws
    stages, a chained stage, an offline-planned one, a failed one, and every kind of flag."""
    local_changes = (
        change("local", COMPUTE, DOMAIN, "local-compute-0-domain", "update", diff=("metadata",)),
        change(
            "local",
            DB,
            VOLUME,
            "local-database-0-data",
            "replace",
            diff=("capacity", "pool"),
            replace_keys=("pool",),
            data=True,
        ),
        change("local", COMPUTE, VOLUME, "local-compute-1-root", "create"),
    )
    onprem_changes = (
        change("onprem", COMPUTE, DOMAIN, "onprem-compute-0-domain", "update", diff=("metadata",)),
        change("onprem", DB, VOLUME, "onprem-database-1-data", "delete", data=True, protected=True),
        change("onprem", DB, DOMAIN, "onprem-database-1-domain", "delete"),
    )
    dev_changes = (
        change("dev", "stageline:storage:AwsStorage", BUCKET, "dev-storage-objects", "create"),
        change(
            "dev",
            "stageline:database:AwsDatabase",
            RDS,
            "dev-database-pg",
            "update",
            diff=("allocatedStorage",),
            data=True,
            protected=False,
        ),
        change("dev", "stageline:network:AwsNetwork", SG_RULE, "dev-network-db-ingress", "create"),
    )
    test_changes = (
        change(
            "test",
            "stageline:compute:AwsCompute",
            ASG,
            "test-compute-group",
            "update",
            diff=("launchTemplate",),
        ),
    )
    dev_urn = urn("dev", "stageline:storage:AwsStorage", BUCKET, "dev-storage-objects")
    sg_urn = urn("dev", "stageline:network:AwsNetwork", SG_RULE, "dev-network-db-ingress")
    return PreviewReport(
        selection=Selection(
            base="origin/main",
            stages=("local", "onprem", "dev", "test", "prod"),
            reasons={
                "local": "stacks/Pulumi.local.yaml changed",
                "onprem": "downstream of local",
                "dev": "components/ changed",
                "test": "components/ changed",
                "prod": "components/ changed",
            },
        ),
        stages=(
            stage_report(
                "local",
                "libvirt",
                local_changes,
                release=ReleaseChange(current="1.4.0", planned="1.5.0", source="pinned"),
            ),
            stage_report(
                "onprem",
                "libvirt",
                onprem_changes,
                release=ReleaseChange(
                    current="1.4.0", planned="1.5.0", source="promoted from local"
                ),
                chained_from="local",
                parity=(
                    ParityItem(
                        peer="local",
                        kind="structural",
                        subject=DOMAIN,
                        detail="2 in local, 4 in onprem",
                    ),
                    ParityItem(
                        peer="local",
                        kind="expected",
                        subject="compute.size",
                        detail="xsmall in local, small in onprem",
                    ),
                    ParityItem(
                        peer="local",
                        kind="expected",
                        subject="database.standby",
                        detail="off in local, on in onprem",
                    ),
                ),
            ),
            stage_report(
                "dev",
                "aws",
                dev_changes,
                source="offline",
                note="the aws provider plugin is not installed for the engine here",
                release=ReleaseChange(current=None, planned="1.5.0", source="pinned"),
                violations=(
                    Violation(
                        policy="encryption-at-rest",
                        level="mandatory",
                        urn=dev_urn,
                        type=BUCKET,
                        message="serverSideEncryptionConfiguration is not set",
                        fix="set storage.encryption (the default) or remove the override",
                    ),
                    Violation(
                        policy="no-open-database-ingress",
                        level="mandatory",
                        urn=sg_urn,
                        type=SG_RULE,
                        message="cidrIpv4 0.0.0.0/0 reaches port 5432",
                        fix="allow only the compute group's security group",
                    ),
                    Violation(
                        policy="tier-size",
                        level="advisory",
                        urn=urn("dev", "stageline:database:AwsDatabase", RDS, "dev-database-pg"),
                        type=RDS,
                        message="db.m6g.large is above the development tier's usual range",
                        fix="use database.size xsmall or small",
                    ),
                ),
            ),
            stage_report(
                "test",
                "aws",
                test_changes,
                source="offline",
                note="the aws provider plugin is not installed for the engine here",
                chained_from="dev",
                release=ReleaseChange(current="1.4.0", planned="1.5.0", source="promoted from dev"),
            ),
            stage_report(
                "prod",
                "aws",
                error="cannot preview prod: the state of stack prod is locked by another update\n"
                "run `stageline cancel prod` once that update has ended",
            ),
        ),
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with STAGELINE_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name} differs from its golden file (see module docstring)"


# -- golden files ---------------------------------------------------------------------------


def test_markdown_summary_matches_its_golden_file() -> None:
    check_golden("ci_summary.md", render_summary(sample_report()))


def test_text_view_matches_its_golden_file() -> None:
    check_golden("ci_summary.txt", render_text(sample_report()))


def test_json_matches_its_golden_file_and_round_trips() -> None:
    report = sample_report()
    text = report.model_dump_json(indent=2)
    check_golden("ci_summary.json", text + "\n")
    assert load_report(text) == report
    assert load_report((GOLDEN / "ci_summary.json").read_text()) == report


def test_split_comments_match_their_golden_file() -> None:
    bodies = render_comments(sample_report(), budget=2500)
    assert len(bodies) > 2
    check_golden("ci_comments_2500.md", "\n<!-- ===== next comment ===== -->\n".join(bodies))


def test_summary_does_not_depend_on_the_order_changes_arrive_in() -> None:
    report = sample_report()
    shuffled = []
    rng = random.Random(7)
    for stage in report.stages:
        changes, violations, parity = (
            list(stage.changes),
            list(stage.violations),
            list(stage.parity),
        )
        rng.shuffle(changes)
        rng.shuffle(violations)
        rng.shuffle(parity)
        shuffled.append(
            stage.model_copy(
                update={
                    "changes": tuple(changes),
                    "violations": tuple(violations),
                    "parity": tuple(parity),
                }
            )
        )
    mixed = report.model_copy(update={"stages": tuple(shuffled)})
    assert mixed != report
    assert render_summary(mixed) == render_summary(report)
    assert render_comments(mixed, 2500) == render_comments(report, 2500)


# -- what the summary says ------------------------------------------------------------------


def test_flags_name_data_replacements_protected_deletes_failures_and_mandatory_violations() -> None:
    found = flags(sample_report())
    assert [(f.kind, f.stage, f.subject) for f in found] == [
        ("failed", "prod", "prod"),
        ("data-replaced", "local", "local-database-0-data"),
        ("protected-deleted", "onprem", "onprem-database-1-data"),
        ("mandatory-violation", "dev", "dev-network-db-ingress"),
        ("mandatory-violation", "dev", "dev-storage-objects"),
    ]
    # An update of a data resource, an unprotected delete and an advisory violation are not flags.
    subjects = {f.subject for f in found}
    assert "dev-database-pg" not in subjects and "onprem-database-1-domain" not in subjects
    assert "locked by another update" in found[0].detail
    assert "forced by: pool" in found[1].detail


def test_a_protected_replacement_is_flagged_twice_if_it_holds_data() -> None:
    replaced = change(
        "prod",
        DB,
        RDS,
        "prod-database-pg",
        "replace",
        replace_keys=("engine",),
        data=True,
        protected=True,
    )
    report = PreviewReport(
        selection=Selection(stages=("prod",)), stages=(stage_report("prod", "aws", (replaced,)),)
    )
    assert [f.kind for f in flags(report)] == ["data-replaced", "protected-deleted"]


def test_flags_come_before_the_table_and_the_table_lists_every_stage() -> None:
    summary = render_summary(sample_report())
    caution = summary.index("> [!CAUTION]")
    table = summary.index("| stage | target |")
    assert caution < table < summary.index("<details>")
    assert "> **5 flags: look at these first**" in summary
    rows = table_of(summary)[2:]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == [
        "local",
        "onprem",
        "dev",
        "test",
        "prod",
    ]


def test_the_table_shows_how_each_stage_was_previewed_its_release_and_its_digest() -> None:
    report = sample_report()
    summary = render_summary(report)
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in table_of(summary)[2:]}
    assert (
        "| offline plan: the aws provider plugin is not installed for the engine here |"
        in rows["dev"]
    )
    assert "| engine |" in rows["local"]
    assert "1.4.0 → 1.5.0, chained from local" in rows["onprem"]
    assert "(unknown) → 1.5.0" in rows["dev"], "an offline plan never reads the running release"
    assert "engine, **failed**" in rows["prod"] and "| — | — | — | — |" in rows["prod"]
    local = report.stage("local")
    assert f"`{local.digest.removeprefix('sha256:')[:12]}`" in rows["local"]
    # create / update / replace / delete, then mandatory / advisory, then structural / expected.
    assert "| 1 | 1 | 1 | 0 | 0 / 0 | 0 / 0 |" in rows["local"]
    assert "| 2 | 1 | 0 | 0 | **2** / 1 | 0 / 0 |" in rows["dev"]
    assert "| 0 | 1 | 0 | 2 | 0 / 0 | **1** / 2 |" in rows["onprem"]


def test_each_stage_has_collapsed_details_with_changes_violations_parity_and_error() -> None:
    summary = render_summary(sample_report())
    assert summary.count("<details>") == 5 and summary.count("</details>") == 5
    dev = summary[summary.index("<summary><b>dev</b>") :].split("</details>")[0]
    assert "| replace | " not in dev
    assert "| create | dev-storage-objects | aws:s3/bucket:Bucket |" in dev
    assert "| **mandatory** | encryption-at-rest | dev-storage-objects |" in dev
    assert "use database.size xsmall or small" in dev
    onprem = summary[summary.index("<summary><b>onprem</b>") :].split("</details>")[0]
    structural = onprem.index("**Parity: structural drift** (1)")
    expected = onprem.index("**Parity: expected differences** (2)")
    assert structural < expected
    assert "| delete | onprem-database-1-data |" in onprem and "**flag**: protected" in onprem
    assert "Chained from local: previewed against local's planned outputs" in onprem
    prod = summary[summary.index("<summary><b>prod</b>: failed") :].split("</details>")[0]
    assert "run `stageline cancel prod` once that update has ended" in prod


def test_docs_only_change_says_no_stage_is_affected() -> None:
    report = PreviewReport(
        selection=Selection(base="origin/main", summary="docs only changed: no stage is affected")
    )
    summary = render_summary(report)
    assert (
        "**Selection** (changes since `origin/main`): docs only changed: no stage is affected."
        in summary
    )
    assert "No stage was previewed." in summary
    assert "| stage |" not in summary and "<details>" not in summary
    assert render_comments(report) == [summary]
    assert "docs only changed: no stage is affected" in render_text(report)


def test_an_empty_selection_without_a_summary_still_says_so() -> None:
    summary = render_summary(PreviewReport(selection=Selection(base="HEAD~1")))
    assert "No stage is affected. No stage was previewed." in summary


def test_a_summary_that_fits_is_one_comment_equal_to_the_summary() -> None:
    report = sample_report()
    assert render_comments(report) == [render_summary(report)]


# -- escaping -------------------------------------------------------------------------------


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_resource_values_cannot_break_the_table_or_inject_html() -> None:
    name = "evil|name<script>alert(1)</script>\n| x | y |`code`*b*_i_[l](u)\x1b[31m"
    message = "</details><img src=x onerror=alert(1)> ~~struck~~ $x$ & more"
    bad = change("dev", "stageline:storage:AwsStorage", BUCKET, name, "create", diff=("a|b",))
    report = PreviewReport(
        selection=Selection(stages=("dev",)),
        stages=(
            stage_report(
                "dev",
                "aws",
                (bad,),
                violations=(
                    Violation(
                        policy="p|q",
                        level="advisory",
                        urn=bad.urn,
                        type=BUCKET,
                        message=message,
                        fix="fix <b>it</b>",
                    ),
                ),
            ),
        ),
    )
    summary = render_summary(report)
    change_rows = [line for line in summary.splitlines() if line.startswith("| create |")]
    assert len(change_rows) == 1, summary
    assert unescaped_pipes(change_rows[0]) == 7  # six cells
    violation_rows = [line for line in summary.splitlines() if line.startswith("| advisory |")]
    assert len(violation_rows) == 1 and unescaped_pipes(violation_rows[0]) == 7
    for raw in ("<script>", "</script>", "<img", "<b>it", "\x1b"):
        assert raw not in summary, raw
    assert summary.count("</details>") == 1
    assert "&lt;script&gt;" in summary and "\\x1b" in summary
    for text in (render_text(report), *render_comments(report, 1500)):
        assert "\x1b" not in text and "<script>" not in text


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("<b>", "&lt;b&gt;"),
        ("x & y", "x &amp; y"),
        ("*a* _b_ `c` [d] ~e~ $f$", "\\*a\\* \\_b\\_ \\`c\\` \\[d\\] \\~e\\~ \\$f\\$"),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two lines"),
        ("bell\x07\u202egnp.exe", "bell\\\\x07\\\\u202egnp.exe"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


# -- comments within a budget ---------------------------------------------------------------

CHANGE_ROW = re.compile(r"^\| (create|update|replace|delete) \| (\S+) \|")


def many_changes_report(
    per_stage: int, stages: tuple[str, ...] = ("local", "dev", "test", "qa")
) -> PreviewReport:
    reports = []
    for stage in stages:
        target = "libvirt" if stage == "local" else "aws"
        changes = tuple(
            change(
                stage,
                "stageline:compute:AwsCompute",
                ASG,
                f"{stage}-compute-{i:05d}",
                ("create", "update", "replace", "delete")[i % 4],
                diff=("launchTemplate", "tags") if i % 4 in (1, 2) else (),
                replace_keys=("launchTemplate",) if i % 4 == 2 else (),
            )
            for i in range(per_stage)
        )
        reports.append(stage_report(stage, target, changes))
    return PreviewReport(selection=Selection(stages=stages), stages=tuple(reports))


def table_of(summary: str) -> list[str]:
    lines = summary.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| stage |"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return lines[start:end]


def change_rows(bodies: list[str]) -> list[str]:
    return [
        m.group(2) for body in bodies for line in body.splitlines() if (m := CHANGE_ROW.match(line))
    ]


def test_thousands_of_changes_spill_into_numbered_continuations_within_the_budget() -> None:
    report = many_changes_report(1500)
    summary = render_summary(report)
    assert len(summary) > 2 * COMMENT_BUDGET  # the budget matters for this report
    bodies = render_comments(report)
    total = len(bodies)
    assert total >= 3
    assert all(len(body) <= COMMENT_BUDGET for body in bodies), [len(b) for b in bodies]
    # The whole table, digests included, in the first comment; none in the others.
    table = table_of(summary)
    assert "\n".join(table) in bodies[0] and "digest |" in table[0]
    assert all("| stage | target |" not in body for body in bodies[1:])
    assert f"_The details continue in comments 2/{total} to {total}/{total}._" in bodies[0]
    for number, body in enumerate(bodies[1:], start=2):
        assert body.startswith(
            f"**stageline preview, continued {number}/{total}**: the summary table and the flags "
            f"are in comment 1/{total}."
        )
    # Every change exactly once across the comments.
    names = change_rows(bodies)
    expected = sorted(c.name for s in report.stages for c in s.changes)
    assert sorted(names) == expected
    # Details open and close within each comment.
    for body in bodies:
        assert body.count("<details>") == body.count("</details>")


def test_a_stage_longer_than_a_comment_is_split_between_rows_and_marked() -> None:
    report = many_changes_report(120, stages=("dev",))
    budget = 3000
    bodies = render_comments(report, budget)
    assert all(len(body) <= budget for body in bodies), [len(b) for b in bodies]
    assert len(bodies) >= 4
    assert sorted(change_rows(bodies)) == sorted(c.name for c in report.stage("dev").changes)
    labels = [line for body in bodies for line in body.splitlines() if line.startswith("<details>")]
    assert "(split: continues in the next comment)" in labels[0]
    assert all("(continued; continues in the next comment)" in label for label in labels[1:-1])
    assert labels[-1].endswith("(continued, end)</summary>")
    # The row ranges of the parts follow on from one another, 1 to 120.
    ranges = [
        (int(a), int(b), int(t))
        for body in bodies
        for a, b, t in re.findall(r"\*\*Changes\*\* \(changes (\d+) to (\d+) of (\d+)\)", body)
    ]
    assert ranges[0][0] == 1 and ranges[-1][1] == 120 and all(t == 120 for *_, t in ranges)
    assert all(nxt[0] == prev[1] + 1 for prev, nxt in itertools.pairwise(ranges))
    # Every part repeats the table header, so each renders as a table.
    for body in bodies[1:]:
        assert "| op | name | type | changed keys | replace keys | flag |" in body


def test_a_table_too_wide_for_the_budget_drops_the_digest_column_and_says_so() -> None:
    names = tuple(f"ci-pr-{n}" for n in range(1000, 1060))
    report = many_changes_report(2, stages=names)
    summary = render_summary(report)
    head = summary[: summary.index("<details>")]
    digest_cells = sum(len(f" `{s.digest.removeprefix('sha256:')[:12]}` |") for s in report.stages)
    budget = len(head) + 120 - digest_cells // 2  # too small for the digests, enough without
    assert budget < len(head)
    bodies = render_comments(report, budget)
    assert all(len(body) <= budget for body in bodies)
    first = bodies[0]
    assert "the digest column is left out (each stage's digest is in its details)" in first
    rows = table_of(first)
    assert "digest" not in rows[0]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows[2:]] == list(names)
    # The digests are not lost: each is in full in its stage's details.
    everything = "\n".join(bodies)
    assert all(f"Approval digest: `{s.digest}`" in everything for s in report.stages)


def test_long_offline_notes_move_from_the_table_to_the_details_when_nothing_else_fits() -> None:
    names = tuple(f"sandbox-{n}" for n in range(30))
    report = many_changes_report(1, stages=names)
    noted = tuple(
        s.model_copy(update={"source": "offline", "note": f"{s.stage}:" + " plugin missing" * 25})
        for s in report.stages
    )
    report = report.model_copy(update={"stages": noted})
    summary = render_summary(report)
    head = summary[: summary.index("<details>")]
    budget = len(head) - sum(len(s.note) for s in noted) // 2
    bodies = render_comments(report, budget)
    assert all(len(body) <= budget for body in bodies)
    first = bodies[0]
    assert "why a stage was previewed offline is in its details, not the table" in first
    assert "the digest column is left out" in first
    rows = table_of(first)[2:]
    assert len(rows) == 30 and all("| offline plan (why: see details) |" in row for row in rows)
    everything = "\n".join(bodies)
    assert all(f"- Previewed: offline plan: {s.note}" in everything for s in noted)


def test_thousands_of_flags_are_counted_in_the_first_comment_and_marked_in_the_details() -> None:
    changes = tuple(
        change("prod", DB, RDS, f"prod-database-{i:04d}", "delete", data=True, protected=True)
        for i in range(2000)
    )
    report = PreviewReport(
        selection=Selection(stages=("prod",)), stages=(stage_report("prod", "aws", changes),)
    )
    bodies = render_comments(report)
    assert all(len(body) <= COMMENT_BUDGET for body in bodies)
    assert "> - **prod**: 2,000 protected resources deleted or replaced" in bodies[0]
    assert "flags are counted per stage" in bodies[0]
    flagged = [
        line
        for body in bodies
        for line in body.splitlines()
        if line.endswith("| **flag**: protected |")
    ]
    assert len(flagged) == 2000


def test_a_line_longer_than_a_comment_is_cut_and_says_so() -> None:
    long_name = "x" * 5000
    report = PreviewReport(
        selection=Selection(stages=("dev",)),
        stages=(stage_report("dev", "aws", (change("dev", "c", BUCKET, long_name, "create"),)),),
    )
    budget = 2000
    bodies = render_comments(report, budget)
    assert all(len(body) <= budget for body in bodies)
    cut = [line for body in bodies for line in body.splitlines() if "line cut here" in line]
    assert len(cut) == 1
    left_out = int(
        re.search(r"line cut here: ([\d,]+) more characters", cut[0]).group(1).replace(",", "")
    )
    kept = cut[0].split(" … (line cut here")[0]
    full = next(
        line for line in render_summary(report).splitlines() if line.startswith("| create |")
    )
    assert full.startswith(kept) and len(kept) + left_out == len(full)


def test_a_budget_too_small_for_the_shortened_table_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold the summary table"):
        render_comments(sample_report(), budget=300)


@pytest.mark.parametrize(
    ("per_stage", "stages"),
    [(40, ("local", "dev")), (3, tuple(f"ci-pr-{n}" for n in range(12)))],
    ids=["split-stages", "whole-stages"],
)
def test_every_budget_in_a_range_keeps_every_body_within_it_and_every_change_once(
    per_stage: int, stages: tuple[str, ...]
) -> None:
    # Budgets a character apart: an off-by-one in the packing shows at one of them.
    report = many_changes_report(per_stage, stages=stages)
    expected = sorted(c.name for s in report.stages for c in s.changes)
    summary = render_summary(report)
    smallest = summary.index("<details>") // 2
    for budget in range(smallest, smallest + 1500, 3):
        try:
            bodies = render_comments(report, budget)
        except ValueError:
            continue
        assert all(len(body) <= budget for body in bodies), (budget, [len(b) for b in bodies])
        assert sorted(change_rows(bodies)) == expected, budget
