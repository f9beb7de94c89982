"""The AWS target: its explicit provider and one class per concern."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.aws.compute import AwsCompute
from components.aws.database import AwsDatabase
from components.aws.network import AwsNetwork
from components.aws.observability import AwsObservability
from components.aws.storage import AwsStorage
from components.targets import TargetKit


def provider(name: str, region: str, opts: pulumi.ResourceOptions) -> pulumi.ProviderResource:
    return aws.Provider(name, region=region, opts=opts)


KIT = TargetKit(
    name="aws",
    provider=provider,
    network=AwsNetwork,
    compute=AwsCompute,
    database=AwsDatabase,
    storage=AwsStorage,
    observability=AwsObservability,
)
