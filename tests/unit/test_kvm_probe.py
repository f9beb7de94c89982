"""The KVM probe's pure parts: its guest's XML and its cache file."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from components.libvirt.resources.kvm_probe import (
    PROBE_CMDLINE,
    QEMU_TRUST_S,
    Resolution,
    cache_path,
    fresh,
    probe_xml,
    read_cache,
    write_entry,
)

NOW = 1_800_000_000.0


def test_the_probe_guest_boots_the_kernel_alone_and_vanishes_when_it_reboots() -> None:
    root = ET.fromstring(probe_xml("stageline-kvm-probe-ab12", "/pool/vmlinuz", "kvm"))
    assert root.get("type") == "kvm"
    assert root.findtext("os/kernel") == "/pool/vmlinuz"
    assert root.findtext("os/cmdline") == PROBE_CMDLINE
    assert "panic=" in PROBE_CMDLINE and "root=" not in PROBE_CMDLINE
    assert root.find("os/initrd") is None
    assert root.find("devices/disk") is None and root.find("devices/interface") is None
    for event in ("on_poweroff", "on_reboot", "on_crash"):
        assert root.findtext(event) == "destroy", event
    assert int(root.findtext("memory") or 0) <= 256 and root.findtext("vcpu") == "1"
    assert root.find("devices/serial/target").get("port") == "0"


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[]",
        json.dumps({"version": 999, "entries": {"h:k": {"domainType": "kvm"}}}),
        json.dumps({"version": 1, "entries": []}),
    ],
)
def test_an_unusable_cache_file_reads_as_empty(tmp_path: Path, content: str) -> None:
    path = tmp_path / "kvm-probe.json"
    path.write_text(content)
    assert read_cache(path) == {}


def test_a_missing_or_unreadable_cache_reads_as_empty(tmp_path: Path) -> None:
    assert read_cache(tmp_path / "absent.json") == {}
    assert read_cache(tmp_path) == {}  # a directory where the file should be


def test_entries_are_added_next_to_the_others_and_no_temporary_file_stays(tmp_path: Path) -> None:
    path = tmp_path / "kvm-probe.json"
    write_entry(path, "h1:/k", Resolution("qemu", "spins"), NOW)
    write_entry(path, "h2:/k", Resolution("kvm", "boots"), NOW + 1)
    assert read_cache(path) == {
        "h1:/k": {"domainType": "qemu", "reason": "spins", "probedAt": NOW},
        "h2:/k": {"domainType": "kvm", "reason": "boots", "probedAt": NOW + 1},
    }
    path.write_text("{corrupt")
    write_entry(path, "h3:/k", Resolution("kvm", "boots"), NOW)
    assert set(read_cache(path)) == {"h3:/k"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kvm-probe.json"]


def test_a_qemu_answer_expires_and_a_kvm_answer_does_not() -> None:
    def entry(domain_type: str, age: float) -> dict[str, object]:
        return {"domainType": domain_type, "reason": "r", "probedAt": NOW - age}

    assert fresh(entry("qemu", QEMU_TRUST_S - 1), NOW) == Resolution("qemu", "r (cached)")
    assert fresh(entry("qemu", QEMU_TRUST_S + 1), NOW) is None
    assert fresh(entry("kvm", 10 * QEMU_TRUST_S), NOW) == Resolution("kvm", "r (cached)")


@pytest.mark.parametrize(
    "entry",
    [
        None,
        "kvm",
        {"domainType": "xen", "reason": "r", "probedAt": NOW},
        {"domainType": "kvm", "reason": 3, "probedAt": NOW},
        {"domainType": "kvm", "reason": "r", "probedAt": "yesterday"},
        {"domainType": "kvm", "reason": "r", "probedAt": True},
        {"domainType": "kvm", "reason": "r"},
    ],
)
def test_a_malformed_entry_is_probed_over(entry: object) -> None:
    assert fresh(entry, NOW) is None


def test_the_cache_lives_under_the_users_cache_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_path() == tmp_path / "stageline" / "kvm-probe.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_path() == tmp_path / "home" / ".cache" / "stageline" / "kvm-probe.json"
