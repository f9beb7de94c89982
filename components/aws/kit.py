"""The AWS target: its explicit provider and one class per concern."""

from __future__ import annotations

import pulumi_aws as aws

from components.aws.compute import AwsCompute
from components.aws.database import AwsDatabase
from components.aws.ingress import AwsIngress
from components.aws.network import AwsNetwork
from components.aws.observability import AwsObservability
from components.aws.routing import AwsRouting
from components.aws.storage import AwsStorage
from components.kit import KitSite, TargetKit


def build(site: KitSite) -> TargetKit:
    provider = aws.Provider(f"{site.name}-provider", region=site.region, opts=site.opts)
    return TargetKit(
        network=AwsNetwork,
        compute=AwsCompute,
        database=AwsDatabase,
        storage=AwsStorage,
        observability=AwsObservability,
        ingress=AwsIngress,
        routing=AwsRouting,
        providers=(provider,),
    )
