"""The GCP target: its explicit provider and one class per concern."""

from __future__ import annotations

import functools

import pulumi
import pulumi_gcp as gcp

from components.gcp.apis import enable_apis
from components.gcp.compute import GcpCompute
from components.gcp.database import GcpDatabase
from components.gcp.ingress import GcpIngress
from components.gcp.network import GcpNetwork
from components.gcp.observability import GcpObservability
from components.gcp.routing import GcpRouting
from components.gcp.settings import GcpSettings
from components.gcp.storage import GcpStorage
from components.kit import KitSite, TargetKit


def provider(name: str, region: str, opts: pulumi.ResourceOptions) -> pulumi.ProviderResource:
    """The stage's provider, which waits for the project's APIs to be enabled.

    The services are enabled through a provider of their own, and the stage's provider depends
    on them: every resource of every concern is created through the stage's provider, so none
    calls an API before it is on, and no concern has to list the APIs it uses.
    """
    # An explicit provider does not read `gcp:` stack config, so the project is passed on when
    # a stack sets `gcp:project`; otherwise the provider takes it from the environment
    # (GOOGLE_PROJECT, GOOGLE_CLOUD_PROJECT or CLOUDSDK_CORE_PROJECT).
    project = pulumi.Config("gcp").get("project")
    bootstrap = gcp.Provider(f"{name}-apis", project=project, opts=opts)
    services = enable_apis(
        f"{name}-api",
        project,
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=bootstrap)),
    )
    return gcp.Provider(
        name,
        region=region,
        project=project,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=services)),
    )


def build(site: KitSite) -> TargetKit:
    settings: GcpSettings = site.settings or GcpSettings()
    return TargetKit(
        network=GcpNetwork,
        compute=GcpCompute,
        database=functools.partial(GcpDatabase, instance_name=settings.database_instance_name),
        storage=GcpStorage,
        observability=GcpObservability,
        ingress=GcpIngress,
        routing=functools.partial(GcpRouting, managed_zone=settings.dns_managed_zone),
        providers=(provider(f"{site.name}-provider", site.region, site.opts),),
    )
