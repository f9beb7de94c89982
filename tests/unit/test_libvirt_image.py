"""The image manifest, and the live check of database.engineVersion against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.libvirt.image import DirectBoot, ManifestError, read_manifest
from components.libvirt.preflight import image_issues
from components.libvirt.settings import LibvirtSettings
from components.spec import DatabaseSpec, EnvironmentSpec


def image(tmp_path: Path, manifest: object | None) -> str:
    disk = tmp_path / "disk.qcow2"
    disk.write_bytes(b"qcow")
    if manifest is not None:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        (tmp_path / "manifest.json").write_text(text)
    return str(disk)


def spec(version: str) -> EnvironmentSpec:
    return EnvironmentSpec(
        network={"cidr": "10.0.0.0/24"}, database=DatabaseSpec(engine_version=version)
    )


FULL = {
    "postgresql": ["15"],
    "kernel": "vmlinuz",
    "initrd": "initrd.img",
    "cmdline": "root=/dev/vda rw",
}


def test_a_manifest_declares_versions_and_direct_boot(tmp_path: Path) -> None:
    found = read_manifest(image(tmp_path, FULL))
    assert found is not None
    assert found.postgresql == ("15",)
    assert found.boot == DirectBoot(
        str(tmp_path / "vmlinuz"), str(tmp_path / "initrd.img"), "root=/dev/vda rw"
    )
    assert found.path == str(tmp_path / "manifest.json")


def test_no_kernel_means_the_image_boots_itself(tmp_path: Path) -> None:
    found = read_manifest(image(tmp_path, {"postgresql": ["15", "16"]}))
    assert found is not None and found.boot is None and found.postgresql == ("15", "16")


def test_no_manifest_declares_nothing(tmp_path: Path) -> None:
    assert read_manifest(image(tmp_path, None)) is None
    assert image_issues(spec("16"), LibvirtSettings(base_image=image(tmp_path, None))) == []


@pytest.mark.parametrize("text", ["{", "[]", '{"kernel": "vmlinuz"}'])
def test_a_broken_manifest_is_an_error_naming_it(tmp_path: Path, text: str) -> None:
    base = image(tmp_path, text)
    with pytest.raises(ManifestError, match=r"manifest\.json"):
        read_manifest(base)
    (issue,) = image_issues(spec("15"), LibvirtSettings(base_image=base))
    assert (issue.key, issue.value) == ("libvirt.baseImage", base)
    assert "cannot read" in issue.problem and "make-guest-image" in issue.fix


def test_an_engine_version_the_image_has_passes(tmp_path: Path) -> None:
    base = image(tmp_path, FULL)
    assert image_issues(spec("15"), LibvirtSettings(base_image=base)) == []


def test_an_engine_version_the_image_lacks_names_what_it_has(tmp_path: Path) -> None:
    base = image(tmp_path, {**FULL, "postgresql": ["14", "15"]})
    (issue,) = image_issues(spec("16"), LibvirtSettings(base_image=base))
    assert (issue.key, issue.value) == ("database.engineVersion", "16")
    assert issue.problem == (
        f"is not in the site's image, which provides PostgreSQL 14, 15 ({tmp_path}/manifest.json)"
    )
    assert issue.fix == "set database.engineVersion to one of 14, 15, or build an image that has it"


def test_an_image_without_postgresql_says_so(tmp_path: Path) -> None:
    base = image(tmp_path, {**FULL, "postgresql": []})
    (issue,) = image_issues(spec("15"), LibvirtSettings(base_image=base))
    assert "provides PostgreSQL none" in issue.problem
    assert issue.fix == "build an image with PostgreSQL (scripts/make-guest-image)"


def test_a_manifest_without_postgresql_provides_none(tmp_path: Path) -> None:
    found = read_manifest(image(tmp_path, {"os": "debian-12"}))
    assert found is not None and found.postgresql == () and found.boot is None
