"""Reading stack and project files: whole error messages, and what a good file turns into.

The CLI-wide cases (every command stops on a broken file) are in test_bad_input_files.py; here
each reader is called directly, so each message is checked word for word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import stageline
from stageline import PROJECT
from stageline.stack_files import (
    SECRET_PLACEHOLDER,
    StackFile,
    StackFileError,
    _where,
    find_stack,
    list_stack_files,
    load_yaml_file,
    project_root,
    read_project_file,
    read_stack_file,
    stacks_dir,
)

STACK_FIX = "A stack file holds `config:` with `stageline:<key>: value` entries."


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def message(path: Path, read=read_stack_file) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(StackFileError) as caught:
        read(path)
    return caught.value.message


def test_a_key_given_twice_names_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "Pulumi.qa.yaml",
        "config:\n  stageline:stage: qa\n  stageline:size: small\n  stageline:stage: qb\n",
    )
    assert message(path) == (
        f"{path}, line 4, column 3: not valid YAML: key 'stageline:stage' is given twice "
        "(first on line 2). Fix that line (check indentation, a missing `:` or a stray quote)."
    )


def test_a_key_given_twice_inside_a_section_is_refused_too(tmp_path: Path) -> None:
    path = write(
        tmp_path / "Pulumi.qa.yaml",
        "config:\n  stageline:network:\n    cidr: 10.30.0.0/16\n    cidr: 10.31.0.0/16\n",
    )
    assert message(path).startswith(
        f"{path}, line 4, column 5: not valid YAML: key 'cidr' is given twice (first on line 3)."
    )


def test_the_same_key_in_two_sections_is_fine(tmp_path: Path) -> None:
    path = write(
        tmp_path / "Pulumi.qa.yaml",
        "config:\n  stageline:network:\n    cidr: a\n  stageline:other:\n    cidr: b\n",
    )
    assert read_stack_file(path).values == {"network": {"cidr": "a"}, "other": {"cidr": "b"}}


@pytest.mark.parametrize(
    ("text", "kind"), [("- stageline:stage: qa\n", "list"), ("just words\n", "str")]
)
def test_a_stack_file_that_is_not_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = write(tmp_path / "Pulumi.qa.yaml", text)
    assert message(path) == (
        f"{path}, line 1, column 1: the stack file is a {kind}, not a mapping. {STACK_FIX}"
    )


def test_a_project_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "Pulumi.yaml", "\n- name: stageline\n")
    assert message(path, read_project_file) == (
        f"{path}, line 2, column 1: the project file is a list, not a mapping. "
        "Write it as `name: stageline` etc."
    )


def test_config_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "Pulumi.qa.yaml", "config:\n  - stageline:stage: qa\n")
    assert message(path) == f"{path}: `config:` is a list, not a mapping. {STACK_FIX}"


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "config:\n", "encryptionsalt: x\n"])
def test_a_file_without_config_has_no_values(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "Pulumi.qa.yaml", text)
    assert read_stack_file(path) == StackFile(name="qa", path=path, values={})


def test_a_missing_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.qa.yaml"
    assert message(path, load_yaml_file) == f"{path}: cannot be read (No such file or directory)"


def test_a_location_without_a_mark_is_the_file_alone() -> None:
    assert _where(Path("stacks/Pulumi.qa.yaml"), None) == "stacks/Pulumi.qa.yaml"


def test_each_caller_gets_its_own_copy_of_the_data(tmp_path: Path) -> None:
    path = write(tmp_path / "Pulumi.qa.yaml", "config:\n  stageline:network:\n    cidr: a\n")
    first = load_yaml_file(path)
    first["config"]["stageline:network"]["cidr"] = "edited"
    assert load_yaml_file(path) == {"config": {"stageline:network": {"cidr": "a"}}}


def test_keys_are_split_by_namespace_and_secrets_marked(tmp_path: Path) -> None:
    path = write(
        tmp_path / "Pulumi.dr.eu.yaml",
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  stageline:\n"
        "    ignored: 1\n"
        "  stageline:stage: dr\n"
        "  stageline:dbPassword:\n"
        "    secure: v1:abc\n"
        "  stageline:network:\n"
        "    cidr: 10.0.0.0/16\n"
        "  stageline:a:b: 2\n"
        "  gcp:token:\n"
        "    secure: v1:def\n",
    )
    stack = read_stack_file(path)
    assert stack == StackFile(
        # A stack name may hold dots: only the `.yaml` is cut.
        name="dr.eu",
        path=path,
        values={
            "stage": "dr",
            "dbPassword": {"secure": "v1:abc"},
            "network": {"cidr": "10.0.0.0/16"},
            # Left whole, so that the unknown-key check names it, not another namespace's.
            "a:b": 2,
        },
        secret_keys=frozenset({"dbPassword"}),
        other_values={
            "aws:region": "eu-west-1",
            "stageline": {"ignored": 1},
            "gcp:token": {"secure": "v1:def"},
        },
    )
    config, secrets = stack.pulumi_config()
    assert config == {
        f"{PROJECT}:stage": "dr",
        f"{PROJECT}:dbPassword": SECRET_PLACEHOLDER,
        f"{PROJECT}:network": '{"cidr": "10.0.0.0/16"}',
        f"{PROJECT}:a:b": "2",
        "aws:region": "eu-west-1",
        "stageline": '{"ignored": 1}',
        "gcp:token": SECRET_PLACEHOLDER,
    }
    assert secrets == [f"{PROJECT}:dbPassword", "gcp:token"]


def test_a_value_with_more_than_secure_is_no_secret(tmp_path: Path) -> None:
    path = write(
        tmp_path / "Pulumi.qa.yaml", "config:\n  stageline:x:\n    secure: a\n    other: b\n"
    )
    assert read_stack_file(path).secret_keys == frozenset()


def test_an_ephemeral_stack_uses_the_longest_template_name(tmp_path: Path) -> None:
    def stack(name: str) -> StackFile:
        return StackFile(
            name=name,
            path=tmp_path / f"Pulumi.{name}.yaml",
            values={"stage": name},
            secret_keys=frozenset({"dbPassword"}),
            other_values={"aws:region": name},
        )

    stacks = {"ci": stack("ci"), "ci-pr": stack("ci-pr"), "a": stack("a"), "a-b": stack("a-b")}
    assert find_stack("ci", stacks) is stacks["ci"]
    assert find_stack("ci-pr-12", stacks) == StackFile(
        name="ci-pr-12",
        path=tmp_path / "Pulumi.ci-pr.yaml",
        values={"stage": "ci-pr"},
        secret_keys=frozenset({"dbPassword"}),
        other_values={"aws:region": "ci-pr"},
    )
    # Two parts cut before a template matches: still the longest one.
    assert find_stack("a-b-c-d", stacks).values == {"stage": "a-b"}  # type: ignore[union-attr]
    assert find_stack("qa-1", stacks) is None


def test_stacks_dir_is_beside_the_project_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "Pulumi.yaml", f"name: {PROJECT}\nruntime: python\n")
    (tmp_path / "deep").mkdir()
    monkeypatch.chdir(tmp_path / "deep")
    assert stacks_dir() == tmp_path / "stacks"
    assert stacks_dir(tmp_path / "elsewhere") == tmp_path / "elsewhere" / "stacks"


def test_listing_stacks_reads_the_project_file_first(tmp_path: Path) -> None:
    write(tmp_path / "Pulumi.yaml", "- broken\n")
    write(tmp_path / "stacks" / "Pulumi.qa.yaml", "config:\n  stageline:stage: qa\n")
    with pytest.raises(StackFileError, match="the project file is a list"):
        list_stack_files(tmp_path / "stacks")


def test_outside_any_project_the_root_is_the_installed_project(tmp_path: Path) -> None:
    # Another project's Pulumi.yaml on the way up is not stageline's.
    write(tmp_path / "Pulumi.yaml", "name: someone-else\nruntime: python\n")
    (tmp_path / "work").mkdir()
    root = project_root(tmp_path / "work")
    assert read_project_file(root / "Pulumi.yaml")["name"] == PROJECT, root
    # The folder holding the stageline package that runs, not any folder above it.
    assert root == Path(stageline.__file__).resolve().parent.parent, root
