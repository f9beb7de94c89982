"""The Google APIs the template calls, enabled before any other resource of the stage.

A fresh project has only a few APIs on; the first call to another one fails with "API has not
been used in project … or it is disabled". The stage's provider waits for these services (see
components/gcp/kit.py), so every resource created through it waits for them too.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_gcp import projects

APIS: tuple[str, ...] = (
    "compute.googleapis.com",  # network, NAT, firewall, instance group
    "servicenetworking.googleapis.com",  # private service access for Cloud SQL
    "sqladmin.googleapis.com",  # Cloud SQL
    "storage.googleapis.com",  # the bucket
    "logging.googleapis.com",  # log bucket and sink
    "monitoring.googleapis.com",  # alert policies
    "iam.googleapis.com",  # the instances' service account
    "secretmanager.googleapis.com",  # the database password
    "dns.googleapis.com",  # a DR stage's failover record
    "storagetransfer.googleapis.com",  # a DR stage's bucket replication
    "pubsub.googleapis.com",  # the change notifications bucket replication reads
)
"""Not listed: serviceusage and cloudresourcemanager, which must already be on to enable any
service (Google turns them on in new projects; README, "What the GCP target builds")."""


def short_name(api: str) -> str:
    return api.split(".", 1)[0]


def enable_apis(
    name: str, project: str | None, opts: pulumi.ResourceOptions
) -> Sequence[projects.Service]:
    """One Service per API, left enabled on destroy: other stacks of the project may use it,
    and disabling a service takes its resources with it."""
    return [
        projects.Service(
            f"{name}-{short_name(api)}",
            project=project,
            service=api,
            disable_on_destroy=False,
            disable_dependent_services=False,
            opts=opts,
        )
        for api in APIS
    ]
