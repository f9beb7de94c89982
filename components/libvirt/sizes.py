"""Abstract size classes mapped to (vCPUs, memory MiB) of a KVM domain."""

from __future__ import annotations

DOMAIN_SIZES: dict[str, tuple[int, int]] = {
    "xsmall": (1, 512),
    "small": (1, 1024),
    "medium": (2, 2048),
    "large": (4, 4096),
    "xlarge": (8, 8192),
}
