"""What a GCP component reads from the stage's explicit provider. Imports no GCP SDK."""

from __future__ import annotations

import pulumi

# Any member of the package resolves the package's provider; this one is only a lookup key.
_GCP_MEMBER = "gcp:index:Provider"


def provider_region(resource: pulumi.Resource) -> pulumi.Output[str] | None:
    """The region of the gcp provider `resource` was given, or None when it has none.

    A few GCP resources take a location that is not defaulted from the provider (a bucket, a log
    bucket); the common args carry no region, and the provider pins it for the whole stage.
    """
    provider = resource.get_provider(_GCP_MEMBER)
    region = getattr(provider, "region", None) if provider is not None else None
    return region if isinstance(region, pulumi.Output) else None
