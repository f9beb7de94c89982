"""The GCP target as the operator sees it: its section, rules, plan-time values and kit.

Imports no GCP SDK.
"""

from __future__ import annotations

from components.gcp.regions import REGIONS
from components.gcp.rules import validate
from components.gcp.settings import parse_settings
from components.targets import Computed, Target

# What the provider computes after create, per resource type (for offline plans).
_COMPUTED: dict[str, Computed] = {
    "gcp:sql/databaseInstance:DatabaseInstance": lambda name: {
        "project": "mock-project",
        "privateIpAddress": "10.0.0.3",
        "selfLink": f"https://sqladmin.googleapis.com/v1/projects/mock-project/instances/{name}",
    },
    "gcp:compute/instanceTemplate:InstanceTemplate": lambda name: {
        "selfLinkUnique": f"projects/mock-project/global/instanceTemplates/{name}?uniqueId=1",
    },
    "gcp:storage/bucket:Bucket": lambda name: {
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}",
        "url": f"gs://{name}",
        "project": "mock-project",
    },
    "gcp:serviceaccount/account:Account": lambda name: {
        "project": "mock-project",
        "email": f"{name}@mock-project.iam.gserviceaccount.com",
        "member": f"serviceAccount:{name}@mock-project.iam.gserviceaccount.com",
    },
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": lambda name: {
        "ipAddress": "203.0.113.20",
    },
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager": lambda name: {
        "instanceGroup": f"projects/mock-project/regions/region/instanceGroups/{name}",
    },
    "gcp:logging/projectBucketConfig:ProjectBucketConfig": lambda name: {
        "name": f"projects/mock-project/locations/global/buckets/{name}",
    },
}


TARGET = Target(
    name="gcp",
    kit="components.gcp.kit",
    places=REGIONS,
    sdk=("pulumi_gcp",),
    settings=parse_settings,
    rules=validate,
    computed=_COMPUTED,
    mock_calls={
        "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount": {
            "email": "project-123@storage-transfer-service.iam.gserviceaccount.com",
            "member": "serviceAccount:project-123@storage-transfer-service.iam.gserviceaccount.com",
        },
        "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": {
            "emailAddress": "service-123@gs-project-accounts.iam.gserviceaccount.com",
            "member": "serviceAccount:service-123@gs-project-accounts.iam.gserviceaccount.com",
        },
    },
    ops="components.gcp.ops",
    policy="components.gcp.policy",
)
