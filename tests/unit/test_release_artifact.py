"""Release artifacts: which targets take a file release, how one is checked and packed."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from components.release_artifact import (
    KEY,
    file_or_image,
    images_only,
    local_path,
    packed,
)

IMAGE = "ghcr.io/acme/shop:1.0.0"


def release(root: Path, start_mode: int | None = 0o755) -> Path:
    folder = root / "app"
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "x.py").write_text("X = 1\n")
    if start_mode is not None:
        (folder / "start").write_text("#!/bin/sh\nexec true\n")
        (folder / "start").chmod(start_mode)
    return folder


def test_an_image_reference_is_no_file(tmp_path: Path) -> None:
    assert local_path(IMAGE, tmp_path) is None
    assert images_only(IMAGE, tmp_path) == []
    assert file_or_image(IMAGE, tmp_path) == []


def test_a_relative_file_release_is_read_from_the_project(tmp_path: Path) -> None:
    assert local_path("file://dist/app.tar.gz", tmp_path) == tmp_path / "dist/app.tar.gz"
    assert local_path("file:///srv/app.tar.gz", tmp_path) == Path("/srv/app.tar.gz")


def test_targets_that_pull_images_refuse_a_file_release(tmp_path: Path) -> None:
    release(tmp_path)
    (issue,) = images_only("file://app", tmp_path)
    assert (issue.key, issue.value) == (KEY, "file://app")
    assert issue.problem == "is a file on this machine, which this target's machines cannot run"
    assert issue.fix == (
        "build an OCI image of the release, push it to a registry and use its reference"
    )


def test_a_folder_with_an_executable_start_is_a_release(tmp_path: Path) -> None:
    release(tmp_path)
    assert file_or_image("file://app", tmp_path) == []


@pytest.mark.parametrize("mode", [None, 0o644])
def test_a_folder_without_an_executable_start_is_refused(tmp_path: Path, mode: int | None) -> None:
    release(tmp_path, mode)
    (issue,) = file_or_image("file://app", tmp_path)
    assert (issue.key, issue.value) == (KEY, "file://app")
    assert issue.problem == f"has no executable start at its top level ({tmp_path}/app/start)"
    assert issue.fix == (
        "point it at a folder or .tar.gz whose top level has an executable `start`"
        " (e.g. file://examples/app), or at an OCI image reference"
    )


@pytest.mark.parametrize("name", ["app.tar.gz", "app.tgz"])
def test_an_archive_is_a_release(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"archive")
    assert file_or_image(f"file://{name}", tmp_path) == []


def test_another_file_or_none_is_refused(tmp_path: Path) -> None:
    (tmp_path / "app.zip").write_bytes(b"zip")
    (issue,) = file_or_image("file://app.zip", tmp_path)
    assert "neither a folder nor a .tar.gz" in issue.problem
    (issue,) = file_or_image("file://missing", tmp_path)
    assert issue.problem.startswith("does not exist")
    assert str(tmp_path / "missing") in issue.problem


def test_a_folder_packs_to_the_same_bytes_every_time(tmp_path: Path) -> None:
    folder = release(tmp_path)
    first = packed(folder)
    os.utime(folder / "start", (1, 1))  # a touched file changes nothing
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert packed(folder) == first
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == ["lib", "lib/x.py", "start"]
    assert members["start"].mode == 0o755 and members["lib/x.py"].mode == 0o644
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members.values()} == {(0, 0, "", "")}
    assert {m.mtime for m in members.values()} == {0}
    assert gzip.decompress(first)  # a real gzip stream...
    assert first[4:8] == b"\0\0\0\0"  # ...whose header holds no time of packing
    (folder / "lib" / "x.py").write_text("X = 2\n")
    assert packed(folder) != first


@pytest.mark.parametrize(
    ("mode", "packed_mode"), [(0o601, 0o755), (0o610, 0o755), (0o700, 0o755), (0o646, 0o644)]
)
def test_any_execute_bit_makes_an_executable(tmp_path: Path, mode: int, packed_mode: int) -> None:
    folder = release(tmp_path)
    (folder / "tool").write_text("x")
    (folder / "tool").chmod(mode)
    with tarfile.open(fileobj=io.BytesIO(packed(folder))) as tar:
        assert tar.getmember("tool").mode == packed_mode


def test_an_archive_is_uploaded_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "app.tar.gz").write_bytes(b"exact bytes")
    assert packed(tmp_path / "app.tar.gz") == b"exact bytes"
