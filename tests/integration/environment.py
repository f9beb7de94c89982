"""A provider-free environment for real-engine tests of the program and the CLI.

Cloud stacks cannot be deployed here (no provider plugins, no accounts), so these tests run
the real program (validation, stage graph, StackReference promotion, contract) with this
builder in place of EnvironmentTemplate: component resources only, which the engine stores
in state like any other resource but which need no plugin.
"""

from __future__ import annotations

import time
from pathlib import Path

import pulumi

from components.contract import (
    KEY_DATABASE,
    KEY_REGION,
    KEY_RELEASE,
    KEY_SCHEMA_VERSION,
    KEY_STAGE,
    KEY_TARGET,
    SCHEMA_VERSION,
    ReleaseManifest,
)
from stageline import PROJECT
from stageline.config import StageConfig
from stageline.program import EnvironmentBuilder, StageLinks


class Data(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__("stageline:test:Data", name, None, opts)
        self.register_outputs({})


def make_environment(delay_seconds: float = 0.0, exports: bool = True) -> EnvironmentBuilder:
    """`delay_seconds` holds the update open (for lock tests); `exports=False` exports nothing."""

    def build(
        config: StageConfig, release: ReleaseManifest, root: Path, links: StageLinks
    ) -> pulumi.Inputs:
        env = pulumi.ComponentResource("stageline:test:Environment", config.stack)
        Data(
            f"{config.stack}-data",
            pulumi.ResourceOptions(parent=env, protect=config.spec.protect_data),
        )
        if delay_seconds:
            time.sleep(delay_seconds)
        if not exports:
            return {}
        database: dict[str, object] = {"name": "app"}
        if config.has_db_password:
            database["password"] = pulumi.Config(PROJECT).require_secret("dbPassword")
        return {
            KEY_SCHEMA_VERSION: SCHEMA_VERSION,
            KEY_STAGE: config.stage,
            KEY_TARGET: config.target,
            KEY_REGION: config.region,
            KEY_RELEASE: release.to_output(),
            KEY_DATABASE: database,
        }

    return build
