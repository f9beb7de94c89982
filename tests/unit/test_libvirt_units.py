"""The libvirt target's pure parts: settings validation, XML, cloud-init seeds, the plan."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pycdlib
import pytest
from pulumi.runtime import rpc

from components.errors import ConfigError
from components.libvirt import site
from components.libvirt.cloudinit import instance_id, seed_iso, user_data
from components.libvirt.database import backup_cron
from components.libvirt.resources.domain import domain_xml
from components.libvirt.resources.network import network_xml
from components.libvirt.settings import parse_settings
from stageline.plan.runner import StagePlan, unwrap_secrets

GOOD = {
    "uri": "qemu+ssh://root@kvm01/system?keyfile=/k&known_hosts=/kh",
    "baseImage": "/images/base.qcow2",
    "poolPath": "/var/lib/libvirt/images",
}

# (case, edits, key, fragment)
SETTINGS_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("not a qemu uri", {"uri": "xen:///system"}, "libvirt.uri", "not a QEMU libvirt URI"),
    ("ssh without host", {"uri": "qemu+ssh:///system?known_hosts=/kh"}, "libvirt.uri", "no host"),
    (
        "ssh without host key checking",
        {"uri": "qemu+ssh://root@kvm01/system"},
        "libvirt.uri",
        "known_hosts",
    ),
    ("no base image", {"baseImage": ""}, "libvirt.baseImage", "required"),
    ("relative pool path", {"poolPath": "images"}, "libvirt.poolPath", "absolute"),
    ("unknown domain type", {"domainType": "xen"}, "libvirt.domainType", "unknown"),
    ("bad public key", {"sshPublicKey": "hello"}, "libvirt.sshPublicKey", "OpenSSH"),
    ("zero storage", {"storageGb": 0}, "libvirt.storageGb", "positive"),
    ("misspelt key", {"poolPth": "/x"}, "libvirt.poolPth", "unknown key"),
]


@pytest.mark.parametrize(
    ("edits", "key", "fragment"),
    [c[1:] for c in SETTINGS_CASES],
    ids=[c[0] for c in SETTINGS_CASES],
)
def test_settings_validation(edits: dict[str, Any], key: str, fragment: str) -> None:
    settings, issues = parse_settings({**GOOD, **edits})
    assert settings is None
    assert [i.key for i in issues] == [key], issues
    assert fragment in issues[0].problem + issues[0].fix
    assert issues[0].fix


def test_good_settings_parse() -> None:
    settings, issues = parse_settings(GOOD)
    assert not issues and settings is not None
    site = settings.site_uri
    assert site.is_remote and site.ssh_host == "kvm01" and site.query("keyfile") == "/k"


def test_network_xml_carries_the_stage_cidr() -> None:
    fixed = [{"name": "s-db-0", "mac": "52:54:00:01:02:03", "ip": "10.70.0.2"}]
    root = ET.fromstring(network_xml("s-net", "10.70.0.0/24", fixed))
    ip = root.find("ip")
    assert ip is not None and ip.get("address") == "10.70.0.1"
    assert ip.get("netmask") == "255.255.255.0"
    # Routed: another site's network reaches it (a DR replica streams from its primary).
    assert root.find("forward").get("mode") == "route"  # type: ignore[union-attr]
    # DHCP starts past the fixed leases, which stay out of its range.
    assert root.find("ip/dhcp/range").get("start") == "10.70.0.10"  # type: ignore[union-attr]
    lease = root.find("ip/dhcp/host")
    assert lease is not None and lease.attrib == {
        "mac": "52:54:00:01:02:03",
        "name": "s-db-0",
        "ip": "10.70.0.2",
    }


def test_domain_xml_has_disks_seed_network_and_console_log() -> None:
    props = {
        "name": "s-app-0",
        "stack": "s",
        "memoryMib": 512.0,  # numbers arrive as doubles
        "vcpus": 1.0,
        "disks": ["/p/root.qcow2", "/p/data.qcow2"],
        "cdrom": "/p/cidata.iso",
        "network": "s-net",
        "consoleLog": "/var/log/stageline/s/s-app-0.log",
    }
    root = ET.fromstring(domain_xml(props, "qemu"))
    assert root.get("type") == "qemu" and root.findtext("memory") == "512"
    targets = [d.find("target").get("dev") for d in root.iter("disk")]  # type: ignore[union-attr]
    # The seed on IDE: the Debian cloud kernel has no SATA driver.
    assert targets == ["vda", "vdb", "hdc"]
    assert root.find("devices/disk[@device='cdrom']/target").get("bus") == "ide"  # type: ignore[union-attr]
    assert root.find("devices/interface/source").get("network") == "s-net"  # type: ignore[union-attr]
    assert root.find("devices/serial/log").get("file") == props["consoleLog"]  # type: ignore[union-attr]
    channel = root.find("devices/channel/target")
    assert channel is not None and channel.get("name") == "org.qemu.guest_agent.0"
    # Without a kernel the image boots from its disk.
    assert root.find("os/boot").get("dev") == "hd" and root.find("os/kernel") is None  # type: ignore[union-attr]


def test_domain_xml_boots_the_kernel_of_the_image_directly() -> None:
    props = {
        "name": "s-app-0",
        "stack": "s",
        "role": "app",
        "memoryMib": 512.0,
        "vcpus": 1.0,
        "disks": ["/p/root.qcow2"],
        "network": "s-net",
        "kernel": "/p/s-vmlinuz",
        "initrd": "/p/s-initrd.img",
        "cmdline": "root=/dev/vda rw console=ttyS0",
    }
    root = ET.fromstring(domain_xml(props, "qemu"))
    assert root.findtext("os/kernel") == "/p/s-vmlinuz"
    assert root.findtext("os/initrd") == "/p/s-initrd.img"
    assert root.findtext("os/cmdline") == "root=/dev/vda rw console=ttyS0"
    assert root.find("os/boot") is None
    # Emulation gets a bounded translation cache; KVM has none to bound.
    assert root.find("features/tcg/tb-cache").text == "128"  # type: ignore[union-attr]
    assert ET.fromstring(domain_xml(props, "kvm")).find("features/tcg") is None
    owner = root.find("metadata/{https://stageline.dev/xmlns/libvirt/1}owner")
    assert owner is not None and owner.attrib == {"stack": "s", "role": "app"}


def test_seed_iso_is_a_cidata_volume_with_both_files() -> None:
    text = user_data("h", "ssh-ed25519 AAAA k", [], ["echo hi"])
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(seed_iso("h", text)))
    try:
        assert iso.pvd.volume_identifier.decode().strip() == "cidata"
        out = io.BytesIO()
        iso.get_file_from_iso_fp(out, rr_path="/user-data")
        assert out.getvalue().decode() == text
        assert text.startswith("#cloud-config\n")
        meta = io.BytesIO()
        iso.get_file_from_iso_fp(meta, rr_path="/meta-data")
        # A new seed is a new instance to cloud-init, so it runs again on a reused disk.
        assert meta.getvalue().decode() == (
            f"instance-id: {instance_id('h', text)}\nlocal-hostname: h\n"
        )
        assert instance_id("h", text) != instance_id("h", text + "\n")
    finally:
        iso.close()


def test_backups_follow_retention() -> None:
    assert backup_cron(0) == ""
    assert "-mtime +14 -delete" in backup_cron(14)


def test_plan_of_local_and_onprem(plan_edited: Callable[..., StagePlan]) -> None:
    local = plan_edited("local", {})
    assert local.ok, local.error
    domains = [r for r in local.resources if r.type.endswith("libvirt:Domain")]
    assert sorted(r.inputs["name"] for r in domains) == [
        "local-app-0",
        "local-db-0",
        "local-ingress",
    ]
    onprem = plan_edited("onprem", {})
    assert onprem.ok, onprem.error
    names = sorted(r.inputs["name"] for r in onprem.resources if r.type.endswith("libvirt:Domain"))
    assert names == ["onprem-app-0", "onprem-app-1", "onprem-db-0", "onprem-db-1", "onprem-ingress"]
    data = [r for r in onprem.resources if r.name.endswith("-data") and "Volume" in r.type]
    assert data and all(r.protect and r.retain_on_delete for r in data), [r.urn for r in data]
    # The database seeds carry the password: they must reach state only as secrets.
    seeds = [r for r in onprem.resources if "database" in r.name and r.name.endswith("-cidata")]
    assert len(seeds) == 2
    assert all(rpc.is_rpc_secret(r.inputs["cloudInit"]) for r in seeds), [r.urn for r in seeds]
    assert unwrap_secrets(onprem.exports["release"]) == unwrap_secrets(local.exports["release"])


def test_libvirt_section_is_validated_before_anything(
    plan_edited: Callable[..., StagePlan],
) -> None:
    plan = plan_edited("local", {"local": {"libvirt.uri": "qemu+tcp://host/system"}})
    assert isinstance(plan.error, ConfigError)
    assert "stageline:libvirt.uri = 'qemu+tcp://host/system'" in str(plan.error)
    assert [r.type for r in plan.resources] == ["pulumi:pulumi:Stack"]


def test_base_image_digest_is_the_content_hash_and_is_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site, "DIGEST_CACHE", tmp_path / "cache")
    image = tmp_path / "base.qcow2"
    image.write_bytes(b"image-v1")
    first = site.file_digest(str(image))
    assert first == hashlib.sha256(b"image-v1").hexdigest()
    assert site.file_digest(str(image)) == first
    assert len(list((tmp_path / "cache").iterdir())) == 1
    image.write_bytes(b"image-v2, another size")
    assert site.file_digest(str(image)) == hashlib.sha256(b"image-v2, another size").hexdigest()
    assert site.file_digest(str(tmp_path / "absent.qcow2")) == "missing"
