"""The AMI architecture follows the EC2 instance type, table-driven and without mocks."""

from __future__ import annotations

import pytest

from components.aws.architecture import ami_parameter, architecture


@pytest.mark.parametrize(
    ("instance_type", "arch"),
    [
        ("t4g.small", "arm64"),
        ("m7g.large", "arm64"),
        ("c7g.xlarge", "arm64"),
        ("r7g.2xlarge", "arm64"),
        ("m6gd.large", "arm64"),
        ("c7gn.large", "arm64"),
        ("g5g.xlarge", "arm64"),
        ("a1.large", "arm64"),
        ("t3.micro", "x86_64"),
        ("m6i.large", "x86_64"),
        ("c6a.xlarge", "x86_64"),
        ("m7i-flex.large", "x86_64"),
        # A GPU family whose series letter is g: x86.
        ("g5.xlarge", "x86_64"),
    ],
)
def test_architecture_of_instance_types(instance_type: str, arch: str) -> None:
    assert architecture(instance_type) == arch
    assert ami_parameter(instance_type).endswith(f"al2023-ami-kernel-default-{arch}")


@pytest.mark.parametrize("bad", ["m7g", "", "large.m7g", "db.m6g.large"])
def test_not_an_instance_type_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not an EC2 instance type"):
        architecture(bad)
