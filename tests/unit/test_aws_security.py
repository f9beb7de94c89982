"""Security properties of the AWS components, each asserted exactly on the registered inputs.

Each component is built alone under Pulumi mocks; `pulumi.runtime.test` waits for every
registration, then the test reads what was sent to the engine. A property that is merely
present (a policy with some statement, some parameter) is not enough: the exact effect,
resources, condition and values are what make the bucket private and the database TLS-only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.aws.compute import AwsCompute
from components.aws.database import AwsDatabase
from components.aws.storage import AwsStorage
from tests.unit.args import compute_args, database_args, storage_args
from tests.unit.recording import record


def build(make: Callable[[], object]) -> list[pulumi.runtime.MockResourceArgs]:
    """Every resource `make` registers, once all registrations have finished."""
    mocks = record().mocks
    pulumi.runtime.test(make)()
    return mocks.created  # type: ignore[attr-defined]


def one(
    created: list[pulumi.runtime.MockResourceArgs], typ: str
) -> pulumi.runtime.MockResourceArgs:
    found = [r for r in created if r.typ == typ]
    assert len(found) == 1, f"expected one {typ}, got {[r.name for r in found]}"
    return found[0]


def urn(r: pulumi.runtime.MockResourceArgs) -> str:
    return f"urn:pulumi:unit::stageline::{r.typ}::{r.name}"


# Built anew for each test: a mutation tool maps a mutant to the tests that build the component,
# and a shared fixture would be built by only the first of them.
@pytest.fixture(params=[True, False], ids=["protected", "ephemeral"])
def storage(request: pytest.FixtureRequest) -> list[pulumi.runtime.MockResourceArgs]:
    protect = request.param
    return build(
        lambda: AwsStorage("s", storage_args(versioning=True, retention_days=5, protect=protect))
    )


@pytest.fixture
def database() -> list[pulumi.runtime.MockResourceArgs]:
    args = database_args(
        engine_version="16",
        size="small",
        storage_gb=20,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.0.64.0/18",),
    )  # type: ignore[call-arg]
    return build(lambda: AwsDatabase("d", args))


@pytest.fixture
def compute() -> list[pulumi.runtime.MockResourceArgs]:
    args = compute_args(
        size="small",
        min_count=1,
        max_count=2,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        ingress_cidr="10.0.0.0/16",
        artifact="ghcr.io/acme/shop:1.0.0",
    )
    return build(lambda: AwsCompute("c", args))


def policy_statements(created: list[pulumi.runtime.MockResourceArgs]) -> tuple[str, list[dict]]:
    policy = one(created, "aws:s3/bucketPolicy:BucketPolicy")
    document = json.loads(policy.inputs["policy"])
    # The only policy language version that supports conditions such as aws:SecureTransport.
    assert document["Version"] == "2012-10-17", urn(policy)
    assert set(document) == {"Version", "Statement"}, urn(policy)
    return urn(policy), document["Statement"]


def bucket_arn(created: list[pulumi.runtime.MockResourceArgs]) -> str:
    bucket = one(created, "aws:s3/bucket:Bucket")
    # The mocks give every resource `arn:mock:<type>:<name>`; the policy must name this one.
    return f"arn:mock:{bucket.typ}:{bucket.name}"


def test_bucket_policy_denies_every_insecure_request(storage: list) -> None:
    where, statements = policy_statements(storage)
    arn = bucket_arn(storage)
    assert statements == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ], where


def test_bucket_policy_is_attached_to_its_bucket(storage: list) -> None:
    policy = one(storage, "aws:s3/bucketPolicy:BucketPolicy")
    bucket = one(storage, "aws:s3/bucket:Bucket")
    assert policy.inputs["bucket"] == f"{bucket.name}-id", urn(policy)


def test_public_access_is_blocked_on_all_four_counts(storage: list) -> None:
    block = one(storage, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    bucket = one(storage, "aws:s3/bucket:Bucket")
    flags = {
        k: block.inputs.get(k)
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    }
    assert flags == dict.fromkeys(flags, True), f"{urn(block)}: {flags}"
    assert block.inputs["bucket"] == f"{bucket.name}-id", urn(block)


def test_bucket_is_encrypted_at_rest(storage: list) -> None:
    sse = one(
        storage,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    rule = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert rule["sseAlgorithm"] == "aws:kms", urn(sse)


def _instance(created: list) -> Any:
    return one(created, "aws:rds/instance:Instance")


def test_database_forces_tls(database: list) -> None:
    params = one(database, "aws:rds/parameterGroup:ParameterGroup")
    assert {"name": "rds.force_ssl", "value": "1"} in [
        {"name": p["name"], "value": p["value"]} for p in params.inputs["parameters"]
    ], f"{urn(params)}: {params.inputs['parameters']}"
    # The instance must use that group, not the engine default (which accepts plain text).
    instance = _instance(database)
    assert instance.inputs["parameterGroupName"] == params.name, urn(instance)


def test_database_storage_is_encrypted(database: list) -> None:
    instance = _instance(database)
    assert instance.inputs["storageEncrypted"] is True, urn(instance)


def test_database_is_not_publicly_accessible(database: list) -> None:
    instance = _instance(database)
    assert instance.inputs["publiclyAccessible"] is False, urn(instance)


def test_instances_require_imdsv2(compute: list) -> None:
    template = one(compute, "aws:ec2/launchTemplate:LaunchTemplate")
    assert template.inputs["metadataOptions"]["httpTokens"] == "required", urn(template)
