"""The `stageline:libvirt` section: where a libvirt stage runs. Pure: imports no libvirt."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic.dataclasses import dataclass

from components.errors import ConfigIssue
from components.libvirt.uri import SSH_SCHEMES, SiteUri
from components.model import MODEL_CONFIG, Says, Text, Whole, validate_section

SECTION = "libvirt"
URI_SCHEMES = ("qemu", "qemu+ssh")
DOMAIN_TYPES = ("auto", "kvm", "qemu")
URI_FIX = "use qemu:///system, or qemu+ssh://user@host/system?keyfile=...&known_hosts=..."

# A wrong type reads like the rule the field breaks, as the semantic checks below word it.
Uri = Annotated[Text, Says(whole=("not a QEMU libvirt URI", URI_FIX))]
BaseImage = Annotated[Text, Says(whole=("is required", "set the path of a qcow2 base image"))]
PoolPath = Annotated[Text, Says(whole=("not an absolute path", "use e.g. /var/lib/libvirt/images"))]
DomainType = Annotated[
    Literal["auto", "kvm", "qemu"],
    Says(whole=("unknown domain type", f"use one of {', '.join(DOMAIN_TYPES)}")),
]
SshKey = Annotated[
    Text, Says(whole=("not an OpenSSH public key", "paste a line of id_ed25519.pub"))
]
PositiveGb = Annotated[Whole, Says(whole=("must be a positive whole number", "use e.g. 10"))]


@dataclass(frozen=True, config=MODEL_CONFIG)
class LibvirtSettings:
    uri: Uri = "qemu:///system"
    """libvirt connection. Default `qemu:///system` (local). Remotely
    `qemu+ssh://user@host/system?keyfile=...&known_hosts=...`: libvirt runs `ssh`, which checks
    the host key against the ssh configuration; stageline's own host steps check it against
    the URI's known_hosts file. (libvirt 9's libssh transport hangs on large replies, such as
    host capabilities, so qemu+libssh is not offered.)"""
    base_image: BaseImage = ""
    """Path, on the machine running stageline, of the qcow2 base image uploaded to the site. Required."""  # noqa: E501
    pool_path: PoolPath = "/var/lib/libvirt/images"
    """Existing folder on the KVM host under which the stage's pool folder is made. Default libvirt's."""  # noqa: E501
    domain_type: DomainType = "auto"
    """`kvm`, `qemu` (software emulation), or `auto`: kvm where the host offers it. Default auto."""
    ssh_public_key: SshKey = ""
    """Public key authorised for the `stageline` user on every VM. Default none."""
    storage_gb: PositiveGb = 10
    """Size of the stage's object-store volume in GiB. Default 10."""

    @property
    def site_uri(self) -> SiteUri:
        return SiteUri(self.uri)


def parse_settings(raw: Any) -> tuple[LibvirtSettings | None, list[ConfigIssue]]:
    return validate_section(LibvirtSettings, raw, SECTION, validate_settings)


def validate_settings(s: LibvirtSettings) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    uri = urlparse(s.uri)
    if uri.scheme not in URI_SCHEMES or uri.path not in ("/system", "/session"):
        issues.append(ConfigIssue(f"{SECTION}.uri", s.uri, "not a QEMU libvirt URI", URI_FIX))
    elif uri.scheme in SSH_SCHEMES:
        if not uri.hostname:
            issues.append(
                ConfigIssue(
                    f"{SECTION}.uri", s.uri, "names no host", "write qemu+ssh://user@host/system"
                )
            )
        if not s.site_uri.query("known_hosts"):
            issues.append(
                ConfigIssue(
                    f"{SECTION}.uri",
                    s.uri,
                    "has no known_hosts: the host key would not be checked",
                    "append &known_hosts=/path/to/known_hosts with the host's key",
                )
            )
    if not s.base_image:
        issues.append(
            ConfigIssue(
                f"{SECTION}.baseImage",
                s.base_image,
                "is required",
                "set the path of a qcow2 base image",
            )
        )
    if not s.pool_path.startswith("/"):
        issues.append(
            ConfigIssue(
                f"{SECTION}.poolPath",
                s.pool_path,
                "not an absolute path",
                "use e.g. /var/lib/libvirt/images",
            )
        )
    if s.ssh_public_key and not re.match(
        r"^(ssh-(ed25519|rsa)|ecdsa-sha2-\S+) \S+", s.ssh_public_key
    ):
        issues.append(
            ConfigIssue(
                f"{SECTION}.sshPublicKey",
                s.ssh_public_key,
                "not an OpenSSH public key",
                "paste a line of id_ed25519.pub",
            )
        )
    if s.storage_gb <= 0:
        issues.append(
            ConfigIssue(
                f"{SECTION}.storageGb",
                s.storage_gb,
                "must be a positive whole number",
                "use e.g. 10",
            )
        )
    return issues
