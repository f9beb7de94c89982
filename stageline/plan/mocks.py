"""Mocks standing in for the engine and providers during an offline plan.

They echo inputs back as state and fill in the values a cloud computes (ARNs, endpoints,
generated names), so that applies run and exports resolve exactly as they would in an `up`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

STACK_REFERENCE = "pulumi:pulumi:StackReference"

# Values the provider computes after create, per resource type.
_COMPUTED: dict[str, Any] = {
    "aws:rds/instance:Instance": lambda name: {
        "identifier": name,
        "address": f"{name}.mock.rds.amazonaws.com",
        "endpoint": f"{name}.mock.rds.amazonaws.com:5432",
        "port": 5432,
    },
    "aws:s3/bucket:Bucket": lambda name: {"bucket": name},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda name: {"latestVersion": 1},
    "aws:ec2/eip:Eip": lambda name: {"allocationId": f"eipalloc-{name}"},
    "random:index/randomPassword:RandomPassword": lambda name: {"result": "mock-password"},
    "random:index/randomString:RandomString": lambda name: {"result": "a1b2c3"},
    "azure-native:dbforpostgresql:Server": lambda name: {
        "fullyQualifiedDomainName": f"{name}.postgres.database.azure.com",
    },
    # Azure answers user-assigned identities as a map by resource ID where the input is a list.
    "azure-native:compute:VirtualMachineScaleSet": lambda name: {
        "identity": {"type": "UserAssigned"},
    },
    "azure-native:managedidentity:UserAssignedIdentity": lambda name: {
        "principalId": f"{name}-principal",
        "clientId": f"{name}-client",
    },
    "azure-native:storage:StorageAccount": lambda name: {
        "primaryEndpoints": {"blob": f"https://{name.replace('-', '')}.blob.core.windows.net/"},
    },
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
    },
    "gcp:serviceaccount/account:Account": lambda name: {
        "project": "mock-project",
        "email": f"{name}@mock-project.iam.gserviceaccount.com",
        "member": f"serviceAccount:{name}@mock-project.iam.gserviceaccount.com",
    },
    "gcp:logging/projectBucketConfig:ProjectBucketConfig": lambda name: {
        "name": f"projects/mock-project/locations/global/buckets/{name}",
    },
}


# What the provider answers to invokes, per function token.
_CALLS: dict[str, dict[str, Any]] = {
    "azure-native:authorization:getClientConfig": {
        "subscriptionId": "00000000-0000-0000-0000-000000000000",
        "tenantId": "11111111-1111-1111-1111-111111111111",
        "clientId": "mock-client",
        "objectId": "mock-object",
    },
}


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self, upstreams: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.upstreams = dict(upstreams or {})
        """Stack outputs by fully qualified stack name, served to StackReference reads."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            ref = str(args.inputs.get("name", args.name))
            outputs = self.upstreams.get(ref, {})
            return ref, {"name": ref, "outputs": dict(outputs), "secretOutputNames": []}
        state = dict(args.inputs)
        state.setdefault("arn", f"arn:mock:{args.typ}:{args.name}")
        if args.typ.startswith("pulumi-python:dynamic/"):
            # What stageline's libvirt dynamic resources compute on create.
            for key in ("uuid", "path"):
                state.setdefault(key, f"{args.name}-{key}")
        state.setdefault("name", args.name)
        computed = _COMPUTED.get(args.typ)
        if computed is not None:
            state.update(computed(args.name))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list]:
        # No failures: the SDK iterates the second item.
        return dict(_CALLS.get(args.token, {})), []
