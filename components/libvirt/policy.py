"""What the policy pack (policy/) needs to know about the libvirt target's resources: Python
dynamic providers (components/libvirt/resources/), whose type tokens are
`pulumi-python:dynamic/libvirt:<Kind>` and whose inputs are their props. SDK-free."""

from __future__ import annotations

import json

from components.libvirt.sizes import DOMAIN_SIZES
from policy.facts import BootText, IngressRule, SizeReading, TargetPolicy, reverse
from policy.model import Problem, Resource
from policy.values import number, plain

VOLUME = "pulumi-python:dynamic/libvirt:Volume"
DOMAIN = "pulumi-python:dynamic/libvirt:Domain"

_BY_SHAPE = reverse(DOMAIN_SIZES)


def _volume_data(resource: Resource) -> list[Problem] | None:
    # Boot images (`source`), root overlays (`backing`) and cloud-init seeds are made afresh
    # from the template; a volume with none of them holds the stage's data (database, objects).
    if any(resource.inputs.get(key) is not None for key in ("source", "backing", "cloudInit")):
        return None
    return []  # no backup setting of its own: protection is the resource's `protect`


def _seed(resource: Resource) -> list[BootText]:
    # A seed marked secret (a Secret, not a dict) is encrypted in the state: nothing to read.
    seed = resource.inputs.get("cloudInit")
    if not isinstance(seed, dict):
        return []
    return [BootText("cloudInit.userData", seed.get("userData"))]


PROXY_CONFIG_PATH = "/etc/stageline/ingress.json"
"""Where the ingress VM's seed writes its proxy's config (components/libvirt/ingress.py): the
client ranges it admits are the site's inbound rules."""


def _proxy_rules(resource: Resource) -> list[IngressRule]:
    seed = resource.inputs.get("cloudInit")
    text = plain(seed.get("userData")) if isinstance(seed, dict) else None
    if not isinstance(text, str) or PROXY_CONFIG_PATH not in text:
        return []
    try:
        # cloud-config as JSON after its first-line marker (components/libvirt/cloudinit.py).
        body = json.loads(text.split("\n", 1)[1])
        (config,) = [
            json.loads(f["content"])
            for f in body.get("write_files", [])
            if f.get("path") == PROXY_CONFIG_PATH
        ]
        listen = int(config["listen"])
    except (ValueError, KeyError, TypeError, IndexError):
        return []
    allow = config.get("allow")
    # A proxy without an allow list (made before it had one) admits every client.
    sources = tuple(str(a) for a in allow) if isinstance(allow, list) else ("0.0.0.0/0",)
    return [
        IngressRule(f"cloudInit.userData {PROXY_CONFIG_PATH} allow", sources, ((listen, listen),))
    ]


def _domain_size(resource: Resource) -> list[SizeReading]:
    # The ingress proxy has one fixed shape on every tier; the stack file sizes the others.
    if plain(resource.inputs.get("role")) == "ingress":
        return []
    vcpus, memory = number(resource.inputs.get("vcpus")), number(resource.inputs.get("memoryMib"))
    if vcpus is None or memory is None:
        return []
    shape = (int(vcpus), int(memory))
    return [SizeReading("vcpus/memoryMib", f"{shape[0]}/{shape[1]}", _BY_SHAPE.get(shape))]


POLICY = TargetPolicy(
    data={VOLUME: _volume_data},
    boot={VOLUME: _seed},
    ingress={VOLUME: _proxy_rules},
    sizes={DOMAIN: _domain_size},
    not_checked={
        "encryption-at-rest": "volumes are plain qcow2 files in the site's pool; encryption at "
        "rest is the KVM host's disk encryption, which no input of the stage sets",
        "no-public-database": "guests sit on the site's own NAT network, never on a public one",
        "stage-tag": "libvirt objects carry no tags; their names start with the stage",
    },
)
