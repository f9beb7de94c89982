"""A generated password kept as a Pulumi secret (pulumi-random's plugin cannot be built here)."""

from __future__ import annotations

import secrets
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class PasswordProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        # URL-safe characters survive shells, cloud-init YAML and libpq connection strings.
        value = secrets.token_urlsafe(int(props["length"]))
        return CreateResult(secrets.token_hex(8), {**props, "result": value})


class Password(Resource, module="libvirt", name="Password"):
    result: pulumi.Output[str]

    def __init__(
        self, resource_name: str, opts: pulumi.ResourceOptions | None = None, length: int = 24
    ):
        super().__init__(
            PasswordProvider(),
            resource_name,
            {"length": length, "result": None},
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["result"])
            ),
        )
