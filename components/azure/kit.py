"""The Azure target: its explicit provider and one class per concern."""

from __future__ import annotations

import functools

import pulumi
import pulumi_azure_native as azure_native

from components.azure.compute import AzureCompute
from components.azure.database import AzureDatabase
from components.azure.ingress import AzureIngress
from components.azure.network import AzureNetwork
from components.azure.observability import AzureObservability
from components.azure.routing import AzureRouting
from components.azure.settings import AzureSettings
from components.azure.storage import AzureStorage
from components.kit import KitSite, TargetKit


def provider(name: str, region: str, opts: pulumi.ResourceOptions) -> pulumi.ProviderResource:
    # An explicit provider does not read `azure-native:` stack config, so the subscription is
    # passed on when a stack sets one; otherwise the provider takes it from the environment
    # (ARM_SUBSCRIPTION_ID, or the Azure CLI's current account).
    subscription = pulumi.Config("azure-native").get("subscriptionId")
    return azure_native.Provider(name, location=region, subscription_id=subscription, opts=opts)


def build(site: KitSite) -> TargetKit:
    settings: AzureSettings = site.settings or AzureSettings()
    return TargetKit(
        network=AzureNetwork,
        # The scale set joins the ingress's load balancer when it is created.
        compute=functools.partial(AzureCompute, frontend=True),
        database=AzureDatabase,
        storage=functools.partial(AzureStorage, account_name=settings.storage_account_name),
        observability=AzureObservability,
        ingress=AzureIngress,
        routing=functools.partial(
            AzureRouting, zone_resource_group=settings.dns_zone_resource_group
        ),
        providers=(provider(f"{site.name}-provider", site.region, site.opts),),
    )
