"""The GCP target: its explicit provider and one class per concern."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.gcp.compute import GcpCompute
from components.gcp.database import GcpDatabase
from components.gcp.network import GcpNetwork
from components.gcp.observability import GcpObservability
from components.gcp.storage import GcpStorage
from components.targets import TargetKit


def provider(name: str, region: str, opts: pulumi.ResourceOptions) -> pulumi.ProviderResource:
    # An explicit provider does not read `gcp:` stack config, so the project is passed on when
    # a stack sets `gcp:project`; otherwise the provider takes it from the environment
    # (GOOGLE_PROJECT, GOOGLE_CLOUD_PROJECT or CLOUDSDK_CORE_PROJECT).
    project = pulumi.Config("gcp").get("project")
    return gcp.Provider(name, region=region, project=project, opts=opts)


KIT = TargetKit(
    name="gcp",
    provider=provider,
    network=GcpNetwork,
    compute=GcpCompute,
    database=GcpDatabase,
    storage=GcpStorage,
    observability=GcpObservability,
)
