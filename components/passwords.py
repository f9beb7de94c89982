"""The database master password: the one given as a Pulumi secret, or a generated one."""

from __future__ import annotations

import pulumi
import pulumi_random as random


def master_password(
    name: str, given: pulumi.Input[str] | None, opts: pulumi.ResourceOptions
) -> pulumi.Input[str]:
    if given is not None:
        return given
    return random.RandomPassword(
        f"{name}-password",
        length=32,
        special=True,
        # Characters every cloud's PostgreSQL accepts in a master password.
        override_special="!#$%^&*()-_=+[]{}<>:?",
        opts=opts,
    ).result
