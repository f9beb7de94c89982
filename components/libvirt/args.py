"""What libvirt concerns share beyond the common args (which the kit binds the site to)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi


def network_of(subnet_ids: pulumi.Input[Sequence[str]]) -> pulumi.Output[str]:
    """The libvirt network domains attach to: the site's one "subnet"."""
    return pulumi.Output.from_input(subnet_ids).apply(lambda ids: ids[0])
