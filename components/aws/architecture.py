"""CPU architecture of an EC2 instance type, so the launch template boots an AMI that runs on it."""

from __future__ import annotations

import re
from typing import Literal

Architecture = Literal["arm64", "x86_64"]

# <series><generation><attributes>.<size>, e.g. m7g.large, c7gn.xlarge, im4gn.large, m7i-flex.large.
_TYPE = re.compile(r"^(?P<series>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z-]*)\.[a-z0-9]+$")
# The first Graviton generation predates the `g` attribute.
_ARM_WITHOUT_G = frozenset({"a1"})

AMI_PARAMETERS: dict[Architecture, str] = {
    arch: f"resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
    for arch in ("arm64", "x86_64")
}
"""Amazon Linux 2023 per architecture. EC2 resolves the parameter at launch, so a plan needs no
AMI lookup and every new instance gets the current patched image."""


def architecture(instance_type: str) -> Architecture:
    """arm64 for Graviton types (a `g` in the family's attributes: t4g, m7g, c7gn, r8g, x2gd, and
    a1), x86_64 otherwise. `g5.xlarge` is an x86 GPU type: only `g` after the generation counts."""
    match = _TYPE.match(instance_type)
    if match is None:
        raise ValueError(f"{instance_type!r} is not an EC2 instance type (<family>.<size>)")
    family = instance_type.split(".", 1)[0]
    if family in _ARM_WITHOUT_G or "g" in match["attributes"]:
        return "arm64"
    return "x86_64"


def ami_parameter(instance_type: str) -> str:
    """The AMI reference (an SSM parameter EC2 resolves) that boots on `instance_type`."""
    return AMI_PARAMETERS[architecture(instance_type)]
