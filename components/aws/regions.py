"""The AWS regions stageline knows, with the zones every account can use (some regions have
more, restricted to older accounts)."""

from __future__ import annotations

from components.places import Regions


def _zones(region: str, letters: str) -> tuple[str, ...]:
    return tuple(f"{region}{letter}" for letter in letters)


REGIONS = Regions(
    "aws",
    {
        "us-east-1": _zones("us-east-1", "abcdef"),
        "us-east-2": _zones("us-east-2", "abc"),
        "us-west-1": _zones("us-west-1", "ac"),
        "us-west-2": _zones("us-west-2", "abcd"),
        "ca-central-1": _zones("ca-central-1", "abd"),
        "eu-west-1": _zones("eu-west-1", "abc"),
        "eu-west-2": _zones("eu-west-2", "abc"),
        "eu-west-3": _zones("eu-west-3", "abc"),
        "eu-central-1": _zones("eu-central-1", "abc"),
        "eu-north-1": _zones("eu-north-1", "abc"),
        "ap-southeast-1": _zones("ap-southeast-1", "abc"),
        "ap-southeast-2": _zones("ap-southeast-2", "abc"),
        "ap-northeast-1": _zones("ap-northeast-1", "acd"),
        "sa-east-1": _zones("sa-east-1", "abc"),
    },
)
