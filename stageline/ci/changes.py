"""`--changed BASE`: which stages a change affects, read from git.

What counts as changed is everything between the merge base of BASE and HEAD (where the pull
request left its base branch, so commits that landed on the base since are not the change's)
and the working tree: commits on the branch, staged and unstaged edits, and new files that git
does not ignore. Renames are not detected: a renamed file counts as its old path removed and
its new path added, so both stages of a renamed stack file are considered. Paths are relative to
the project folder; changes outside it (a monorepo's other projects) are not stageline's.

How a changed path selects stages (`select_stages`), first match wins:

- documentation (`*.md`, `*.rst`, `docs/`, `LICENSE*`), tests (`tests/`, `benchmarks/`) and
  the repository's own housekeeping (`.github/`, `.ci/`, `.gitignore`, ...): no stage, since
  none of them is read by the program a stage runs;
- a stack file `stacks/Pulumi.<stack>.yaml`: that stage and every stage downstream of it
  (they deploy what it verifies); a stack file that is gone from stacks/ selects nothing, and
  the summary says that stage can no longer be previewed;
- the template and the operator (`components/`, `stageline/`, `policy/`), the project file, the
  entry point, the dependency pins and lock files, and the engine pin (`engine/`): every stage;
- anything else (scripts, the example app, a new top-level file): every stage. Not knowing
  what a file does, previewing too much is the safe mistake; the reason names the file.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

import click

from stageline.ci.report import Selection
from stageline.graph import StageGraph
from stageline.stack_files import STACK_FILE_PREFIX

FETCH_FIX = (
    "fetch it first (e.g. `git fetch origin main`); in GitHub Actions check out with "
    "`fetch-depth: 0` so that the pull request's base and its history are in the clone"
)

# Paths no stage's program reads: a change to these alone previews nothing.
NO_STAGE_SUFFIXES = (".md", ".rst")
NO_STAGE_DIRS = ("docs", "tests", "benchmarks", ".github", ".ci")
NO_STAGE_NAMES = ("LICENSE*", "NOTICE*", ".gitignore", ".gitattributes", ".editorconfig")

# Paths every stage is built from: folders and files at the project's top, and dependency
# pins or lock files wherever they are.
EVERY_STAGE_DIRS = ("components", "stageline", "policy", "engine")
EVERY_STAGE_FILES = ("Pulumi.yaml", "__main__.py", "pyproject.toml", "setup.py", "setup.cfg")
PIN_FILES = ("Pipfile", "*.lock", "requirements*.txt", "constraints*.txt")

Kind = Literal["none", "stack", "every", "unknown"]


class ChangesError(click.ClickException):
    """git cannot say what changed: the message names BASE (or the folder) and the fix."""


@dataclass(frozen=True)
class ChangedPath:
    path: str
    kind: Kind
    stack: str | None = None
    """For a stack file: the stack it configures."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise ChangesError("git is not installed: install it to use --changed") from exc


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "").strip()


def _merge_base(root: Path, base: str) -> str:
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise ChangesError(
            f"--changed {base}: {root} is not in a git repository, so there is nothing to "
            "compare with; run it in a clone of the project, or preview every stage without "
            "--changed"
        )
    if base.startswith("-") or not base.strip():
        raise ChangesError(f"--changed {base!r}: not a git revision; give e.g. origin/main")
    if _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").returncode != 0:
        raise ChangesError(
            f"--changed {base}: git does not know the revision {base!r}: {FETCH_FIX}"
        )
    found = _git(root, "merge-base", base, "HEAD")
    if found.returncode != 0:
        if _git(root, "rev-parse", "--verify", "--quiet", "HEAD").returncode != 0:
            raise ChangesError(
                f"--changed {base}: the repository at {root} has no commit checked out (HEAD)"
            )
        shallow = _git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        why = "the clone is shallow" if shallow else "they share no history"
        raise ChangesError(
            f"--changed {base}: git finds no common ancestor of {base!r} and HEAD ({why}): "
            f"{FETCH_FIX}"
        )
    return found.stdout.strip()


def _paths(result: subprocess.CompletedProcess[str], what: str) -> list[str]:
    if result.returncode != 0:
        raise ChangesError(f"git could not list {what}: {_first_line(result.stderr)}")
    return [p for p in result.stdout.split("\0") if p]


def changed_files(root: Path, base: str) -> list[str]:
    """Paths (relative to `root`, POSIX, sorted) changed since BASE's merge base with HEAD.

    Committed, staged, unstaged and untracked-but-not-ignored changes all count; a rename
    counts as both its paths. ChangesError (a clean CLI error) when `root` is not in a git
    repository or git does not know BASE, naming BASE and the fix.
    """
    merge_base = _merge_base(root, base)
    # --relative: paths relative to root, and nothing outside it. --no-renames: a rename is
    # its old path deleted and its new path added, both listed.
    diff = _git(root, "diff", "--name-only", "--no-renames", "--relative", "-z", merge_base, "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    paths = _paths(diff, f"the changes since {base}") + _paths(untracked, "the untracked files")
    return sorted(set(paths))


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def classify(path: str, stacks_dir: str = "stacks") -> ChangedPath:
    """What one changed path means for the stages (see the module docstring)."""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else path
    top = parts[0] if len(parts) > 1 else None
    if name.endswith(NO_STAGE_SUFFIXES) or top in NO_STAGE_DIRS or _matches(name, NO_STAGE_NAMES):
        return ChangedPath(path, "none")
    folder = PurePosixPath(stacks_dir)
    if PurePosixPath(path).parent == folder:
        found = re.fullmatch(rf"{re.escape(STACK_FILE_PREFIX)}(.+)\.yaml", name)
        if found:
            return ChangedPath(path, "stack", found.group(1))
    if top in EVERY_STAGE_DIRS or (top is None and name in EVERY_STAGE_FILES):
        return ChangedPath(path, "every")
    if _matches(name, PIN_FILES):
        return ChangedPath(path, "every")
    return ChangedPath(path, "unknown")


def _listed(paths: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(paths[:limit])
    return f"{shown} and {len(paths) - limit} more" if len(paths) > limit else shown


def _downstream_chain(graph: StageGraph, stage: str) -> list[str]:
    chain: list[str] = []
    todo = [stage]
    while todo:
        for node in graph.downstream(todo.pop(0)):
            if node.name not in chain:
                chain.append(node.name)
                todo.append(node.name)
    return chain


def select_stages(
    graph: StageGraph,
    files: Sequence[str],
    stacks_dir: str = "stacks",
    base: str | None = None,
) -> Selection:
    """The stages `files` (paths relative to the project) affect, in graph order, each with
    why, and one summary line for the reviewer. `stacks_dir` is the stack folder relative to
    the project; `base` is recorded in the Selection."""
    changed = [classify(p, stacks_dir) for p in files]
    own: dict[str, list[str]] = {}
    removed: list[ChangedPath] = []
    for item in changed:
        if item.kind != "stack" or item.stack is None:
            continue
        if item.stack in graph.nodes:
            own.setdefault(item.stack, []).append(item.path)
        else:
            removed.append(item)
    every = [c.path for c in changed if c.kind == "every"]
    unknown = [c.path for c in changed if c.kind == "unknown"]
    inert = [c.path for c in changed if c.kind == "none"]

    reasons: dict[str, list[str]] = {}
    for stage, paths in own.items():
        reasons.setdefault(stage, []).append(f"{_listed(paths)} changed")
    for stage in own:
        for below in _downstream_chain(graph, stage):
            reasons.setdefault(below, []).append(f"downstream of {stage}")
    if every or unknown:
        why = []
        if every:
            why.append(f"{_listed(every)} changed (every stage is built from it)")
        if unknown:
            why.append(
                f"{_listed(unknown)} changed (not known to leave the stages alone, "
                "so every stage is previewed)"
            )
        for stage in graph.nodes:
            reasons.setdefault(stage, []).extend(why)

    stages = tuple(s for s in graph.order() if s in reasons)
    if not files:
        summary = "no file changed: no stage is affected"
    elif not stages and not removed:
        summary = (
            f"only docs, tests or repository files changed ({_listed(inert)}): no stage is affected"
        )
    elif len(stages) == len(graph.nodes):
        summary = f"every stage is affected: {_listed(every + unknown)} changed"
        if not every and not unknown:
            summary = "every stage is affected: " + "; ".join(
                f"{_listed(p)} changed" for p in own.values()
            )
    elif stages:
        summary = f"{len(stages)} of {len(graph.nodes)} stages affected: " + "; ".join(
            f"{_listed(p)} changed" for p in own.values()
        )
    else:
        summary = "no stage is affected"
    for item in removed:
        summary += (
            f"; {item.path} was removed: stage {item.stack!r} is no longer in "
            f"{stacks_dir}/ and cannot be previewed (its deployed stack, if any, is left as is)"
        )
    return Selection(
        base=base,
        stages=stages,
        reasons={s: "; ".join(reasons[s]) for s in stages},
        summary=summary,
    )


def select_changed(
    graph: StageGraph, root: Path, base: str, stacks_dir: Path | None = None
) -> Selection:
    """`select_stages` over `changed_files(root, base)`: what `--changed BASE` previews."""
    folder = (stacks_dir or root / "stacks").resolve()
    try:
        relative = folder.relative_to(root.resolve()).as_posix()
    except ValueError:
        relative = folder.as_posix()  # stacks outside the project: no changed path matches
    return select_stages(graph, changed_files(root, base), relative, base)
