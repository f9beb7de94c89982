"""`--changed BASE`: the changed paths from a real git repository, and the stages they select.

Every case builds a scratch repository in tmp_path with the project's layout (the real stack
files, a component, the project files, docs and tests), commits it as the base, and then makes
one kind of change with the real `git`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from stageline.ci.changes import ChangesError, changed_files, select_changed, select_stages
from stageline.graph import StageGraph, load_stage_graph
from tests.conftest import REPO_STACKS, edit_stack_file

PROJECT = REPO_STACKS.parent


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A clone-like project with one commit on `main`, and a branch `change` checked out."""
    root = tmp_path / "project"
    shutil.copytree(REPO_STACKS, root / "stacks")
    (root / "components").mkdir()
    shutil.copy(PROJECT / "components" / "network.py", root / "components" / "network.py")
    for name in ("Pulumi.yaml", "__main__.py", "pyproject.toml", "README.md", ".gitignore"):
        shutil.copy(PROJECT / name, root / name)
    (root / "docs").mkdir()
    (root / "docs" / "operating.md").write_text("# Operating stageline\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_something.py").write_text("def test_it() -> None:\n    pass\n")
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "change")
    return root


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def graph_of(repo: Path) -> StageGraph:
    return load_stage_graph(repo / "stacks")


def chain_below(graph: StageGraph, stage: str) -> set[str]:
    """Every stage that promotes, directly or not, from `stage`: read from the stack files."""
    found: set[str] = set()
    for name, node in graph.nodes.items():
        current = node.promotes_from
        while current:
            if current == stage:
                found.add(name)
                break
            current = graph.nodes[current].promotes_from
    return found


def test_a_changed_stack_file_selects_its_stage_and_the_chain_below(repo: Path) -> None:
    edit_stack_file(repo / "stacks" / "Pulumi.qa.yaml", {"compute.maxCount": 4})
    commit(repo)
    files = changed_files(repo, "main")
    assert files == ["stacks/Pulumi.qa.yaml"]

    graph = graph_of(repo)
    selection = select_stages(graph, files, "stacks", base="main")
    below = chain_below(graph, "qa")
    assert below, "qa has downstream stages in the committed stacks"
    assert set(selection.stages) == {"qa", *below}
    # Graph order: every stage comes after the stage it promotes from.
    for stage in selection.stages:
        upstream = graph.nodes[stage].promotes_from
        if upstream in selection.stages:
            assert selection.stages.index(upstream) < selection.stages.index(stage)
    assert selection.reasons["qa"] == "stacks/Pulumi.qa.yaml changed"
    for stage in below:
        assert "downstream of qa" in selection.reasons[stage], selection.reasons
    assert selection.base == "main"
    assert "dev" not in selection.stages and "local" not in selection.stages


@pytest.mark.parametrize(
    "path",
    ["components/network.py", "Pulumi.yaml", "pyproject.toml", "__main__.py"],
)
def test_a_template_or_project_file_selects_every_stage(repo: Path, path: str) -> None:
    with (repo / path).open("a") as f:
        f.write("\n# changed\n")
    commit(repo)
    files = changed_files(repo, "main")
    assert files == [path]
    graph = graph_of(repo)
    selection = select_stages(graph, files, "stacks", base="main")
    assert set(selection.stages) == set(graph.nodes)
    assert list(selection.stages) == [s for s in graph.order() if s in selection.stages]
    assert all(path in reason for reason in selection.reasons.values()), selection.reasons
    assert path in selection.summary and "every stage" in selection.summary


@pytest.mark.parametrize("path", ["engine/go.mod", "policy/pack.py", "requirements.lock"])
def test_the_engine_pin_policies_and_lock_files_select_every_stage(repo: Path, path: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text("changed\n")
    commit(repo)
    selection = select_stages(graph_of(repo), changed_files(repo, "main"), "stacks")
    assert set(selection.stages) == set(graph_of(repo).nodes)
    assert path in selection.reasons["dev"]


def test_docs_and_tests_only_select_no_stage_and_say_so(repo: Path) -> None:
    with (repo / "README.md").open("a") as f:
        f.write("\nMore words.\n")
    (repo / "docs" / "operating.md").write_text("# Operating stageline, revised\n")
    (repo / "tests" / "test_something.py").write_text("def test_other() -> None:\n    pass\n")
    commit(repo)
    files = changed_files(repo, "main")
    assert files == ["README.md", "docs/operating.md", "tests/test_something.py"]
    selection = select_stages(graph_of(repo), files, "stacks", base="main")
    assert selection.stages == ()
    assert selection.reasons == {}
    assert "no stage is affected" in selection.summary
    assert "README.md" in selection.summary


def test_nothing_changed_says_so(repo: Path) -> None:
    assert changed_files(repo, "main") == []
    selection = select_stages(graph_of(repo), [], "stacks", base="main")
    assert selection.stages == () and "no file changed" in selection.summary


def test_uncommitted_staged_and_untracked_changes_count(repo: Path) -> None:
    # Unstaged edit, staged edit, and a new file git does not ignore; an ignored one is left out.
    edit_stack_file(repo / "stacks" / "Pulumi.dev.yaml", {"compute.maxCount": 3})
    edit_stack_file(repo / "stacks" / "Pulumi.local.yaml", {"compute.maxCount": 3})
    git(repo, "add", "stacks/Pulumi.local.yaml")
    (repo / "components" / "extra.py").write_text("VALUE = 1\n")
    ignored = repo / "stacks" / "Pulumi.ci-pr-7.yaml"  # .gitignore: ephemeral copies
    ignored.write_text((repo / "stacks" / "Pulumi.ci.yaml").read_text())
    files = changed_files(repo, "main")
    assert files == ["components/extra.py", "stacks/Pulumi.dev.yaml", "stacks/Pulumi.local.yaml"]


def test_uncommitted_stack_edit_selects_its_chain(repo: Path) -> None:
    edit_stack_file(repo / "stacks" / "Pulumi.local.yaml", {"compute.maxCount": 3})
    graph = graph_of(repo)
    selection = select_stages(graph, changed_files(repo, "main"), "stacks")
    assert set(selection.stages) == {"local", *chain_below(graph, "local")}


def test_a_rename_counts_both_paths(repo: Path) -> None:
    git(repo, "mv", "README.md", "docs/README.md")
    commit(repo, "move the readme")
    assert changed_files(repo, "main") == ["README.md", "docs/README.md"]


def test_a_renamed_stack_file_selects_the_new_stage_and_notes_the_old(repo: Path) -> None:
    # sandbox-gcp is a leaf: nothing promotes from it, so the graph stays whole.
    git(repo, "mv", "stacks/Pulumi.sandbox-gcp.yaml", "stacks/Pulumi.sandbox-eu.yaml")
    commit(repo, "rename a stack")
    files = changed_files(repo, "main")
    assert files == ["stacks/Pulumi.sandbox-eu.yaml", "stacks/Pulumi.sandbox-gcp.yaml"]
    selection = select_stages(graph_of(repo), files, "stacks")
    assert selection.stages == ("sandbox-eu",)
    assert "'sandbox-gcp' is no longer in stacks/" in selection.summary


def test_a_deleted_stack_is_said_to_be_gone_not_selected(repo: Path) -> None:
    git(repo, "rm", "-q", "stacks/Pulumi.prod-dr.yaml")
    commit(repo, "drop prod's DR")
    files = changed_files(repo, "main")
    assert files == ["stacks/Pulumi.prod-dr.yaml"]
    graph = graph_of(repo)
    assert "prod-dr" not in graph.nodes
    selection = select_stages(graph, files, "stacks", base="main")
    assert selection.stages == ()
    assert "stacks/Pulumi.prod-dr.yaml was removed" in selection.summary
    assert "cannot be previewed" in selection.summary


def test_the_merge_base_is_compared_not_the_base_branch_tip(repo: Path) -> None:
    # The base branch moved on after the branch was made: its change is not this branch's.
    git(repo, "checkout", "-q", "main")
    edit_stack_file(repo / "stacks" / "Pulumi.prod.yaml", {"compute.maxCount": 13})
    commit(repo, "prod on main")
    git(repo, "checkout", "-q", "change")
    edit_stack_file(repo / "stacks" / "Pulumi.test.yaml", {"compute.maxCount": 3})
    commit(repo, "test on the branch")
    assert changed_files(repo, "main") == ["stacks/Pulumi.test.yaml"]


def test_an_unknown_file_selects_every_stage_and_says_why(repo: Path) -> None:
    (repo / "scripts").mkdir()
    (repo / "scripts" / "setup").write_text("#!/bin/sh\n")
    graph = graph_of(repo)
    selection = select_stages(graph, changed_files(repo, "main"), "stacks")
    assert set(selection.stages) == set(graph.nodes)
    assert "scripts/setup" in selection.reasons["prod"]
    assert "not known" in selection.reasons["prod"]


def test_paths_are_relative_to_a_project_inside_a_larger_repository(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    project = root / "infra"
    shutil.copytree(REPO_STACKS, project / "stacks")
    (root / "other").mkdir(parents=True)
    (root / "other" / "main.c").write_text("int main(void) { return 0; }\n")
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    commit(root, "base")
    (root / "other" / "main.c").write_text("int main(void) { return 1; }\n")
    edit_stack_file(project / "stacks" / "Pulumi.dev.yaml", {"compute.maxCount": 3})
    assert changed_files(project, "main") == ["stacks/Pulumi.dev.yaml"]
    selection = select_changed(load_stage_graph(project / "stacks"), project, "main")
    assert "dev" in selection.stages
    assert selection.reasons["dev"] == "stacks/Pulumi.dev.yaml changed"


def test_an_unknown_base_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(ChangesError) as caught:
        changed_files(repo, "origin/main")
    message = caught.value.message
    assert "origin/main" in message
    assert "git fetch origin main" in message and "fetch-depth: 0" in message


def test_a_folder_that_is_not_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    shutil.copytree(REPO_STACKS, folder / "stacks")
    with pytest.raises(ChangesError) as caught:
        changed_files(folder, "main")
    message = caught.value.message
    assert "--changed main" in message and "not in a git repository" in message
    assert str(folder) in message


def test_a_shallow_clone_without_the_base_names_the_fix(repo: Path, tmp_path: Path) -> None:
    edit_stack_file(repo / "stacks" / "Pulumi.dev.yaml", {"compute.maxCount": 3})
    commit(repo)
    base = git(repo, "rev-parse", "main")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "change", repo.as_uri(), str(clone))
    with pytest.raises(ChangesError) as caught:
        changed_files(clone, base)
    assert base in caught.value.message and "fetch-depth: 0" in caught.value.message


def preview_changed(repo: Path, base: str) -> tuple[int, str, Path]:
    """`stageline preview --all --changed BASE` through the CLI, in the scratch repository."""
    from click.testing import CliRunner

    from stageline.cli.context import CliContext
    from stageline.cli.main import cli
    from stageline.workspace import Project

    report = repo / "report.json"
    result = CliRunner().invoke(
        cli,
        ["preview", "--all", "--changed", base, "--format", "json", "--output", str(report)],
        obj=CliContext(Project(repo)),
    )
    return result.exit_code, result.output, report


def test_preview_all_of_a_docs_only_change_previews_nothing_and_says_so(repo: Path) -> None:
    from stageline.ci.report import load_report

    (repo / "docs" / "operating.md").write_text("# Operating stageline, revised\n")
    code, output, path = preview_changed(repo, "main")
    assert code == 0, output
    report = load_report(path.read_text())
    assert report.stages == () and report.selection.base == "main"
    assert "no stage is affected" in report.selection.summary


def test_preview_all_with_an_unknown_base_is_a_clear_error(repo: Path) -> None:
    code, output, path = preview_changed(repo, "no-such-branch")
    assert code == 1 and "no-such-branch" in output and "Traceback" not in output, output
    assert not path.exists()
