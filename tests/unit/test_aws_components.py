"""AWS components built directly under Pulumi mocks; assertions run through Output.apply."""

from __future__ import annotations

import pulumi
import pytest

from components.aws.database import AwsDatabase
from components.aws.network import AwsNetwork
from components.aws.storage import AwsStorage
from components.database import DatabaseArgs
from components.network import NetworkArgs, plan_subnets
from components.storage import StorageArgs
from stageline.plan.mocks import PlanMocks


class RecordingMocks(PlanMocks):
    def __init__(self) -> None:
        super().__init__()
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):  # type: ignore[override]
        self.created.append(args)
        return super().new_resource(args)


@pytest.fixture
def mocks() -> RecordingMocks:
    m = RecordingMocks()
    pulumi.runtime.set_mocks(m, project="stageline", stack="unit", preview=False)
    return m


def test_subnet_plan_is_disjoint_and_inside_the_network() -> None:
    plan = plan_subnets("10.50.0.0/16", 3)
    assert len(plan.public) == len(plan.private) == 3
    assert len(set(plan.public + plan.private)) == 6
    assert all(s.startswith("10.50.") for s in plan.public + plan.private)


@pytest.mark.parametrize(("nat", "expected"), [("none", 0), ("single", 1), ("per-zone", 3)])
@pulumi.runtime.test
def test_network_nat_follows_the_spec(mocks: RecordingMocks, nat: str, expected: int):
    zones = ("us-east-1a", "us-east-1b", "us-east-1c")
    net = AwsNetwork("n", NetworkArgs(cidr="10.50.0.0/16", zones=zones, nat=nat))  # type: ignore[arg-type]
    plan = plan_subnets("10.50.0.0/16", 3)

    def check(args: list) -> None:
        urn, nat_ids, public, private = args
        assert len(nat_ids) == expected, f"{urn}: {len(nat_ids)} NAT gateways for nat={nat}"
        assert tuple(public) == plan.public, f"{urn}: public {public}"
        assert tuple(private) == plan.private, f"{urn}: private {private}"

    return pulumi.Output.all(
        net.urn,
        pulumi.Output.all(*[g.id for g in net.nat_gateways]),
        pulumi.Output.all(*[s.cidr_block for s in net.public_subnets]),
        pulumi.Output.all(*[s.cidr_block for s in net.private_subnets]),
    ).apply(check)


def _db_args(**overrides) -> DatabaseArgs:
    base = dict(
        engine_version="16",
        size="small",
        storage_gb=20,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.0.64.0/18", "10.0.128.0/18"),
    )
    return DatabaseArgs(**{**base, **overrides})  # type: ignore[arg-type]


@pulumi.runtime.test
def test_database_generates_a_secret_password(mocks: RecordingMocks):
    db = AwsDatabase("d", _db_args())

    def check(args: list) -> None:
        urn, secret = args
        assert secret, f"{urn}: the instance password is not a secret"
        assert any(r.typ.startswith("random:") for r in mocks.created), f"{urn}: no RandomPassword"

    return pulumi.Output.all(db.urn, pulumi.Output.is_secret(db.instance.password)).apply(check)


@pulumi.runtime.test
def test_database_uses_a_given_password_and_follows_the_spec(mocks: RecordingMocks):
    db = AwsDatabase(
        "d",
        _db_args(
            password=pulumi.Output.secret("from-config"),
            high_availability=True,
            backup_retention_days=14,
            deletion_protection=True,
        ),
    )

    def check(args: list) -> None:
        urn, multi_az, retention, protected = args
        assert not any(r.typ.startswith("random:") for r in mocks.created), urn
        assert multi_az is True, urn
        assert retention == 14, urn
        assert protected is True, urn
        sg = next(r for r in mocks.created if r.typ == "aws:ec2/securityGroup:SecurityGroup")
        assert sg.inputs["ingress"][0]["cidrBlocks"] == ["10.0.64.0/18", "10.0.128.0/18"], urn

    i = db.instance
    return pulumi.Output.all(
        db.urn, i.multi_az, i.backup_retention_period, i.deletion_protection
    ).apply(check)


@pytest.mark.parametrize(("versioning", "status"), [(True, "Enabled"), (False, "Suspended")])
@pulumi.runtime.test
def test_storage_versioning_follows_the_spec(mocks: RecordingMocks, versioning: bool, status: str):
    store = AwsStorage("s", StorageArgs(versioning=versioning, retention_days=5))
    block = store.public_access_block

    def check(args: list) -> None:
        urn, config, blocks, rules = args
        assert config["status"] == status, f"{urn}: {config}"
        assert all(blocks), f"{urn}: public access not fully blocked: {blocks}"
        assert rules[0]["noncurrent_version_expiration"]["noncurrent_days"] == 5, f"{urn}: {rules}"

    return pulumi.Output.all(
        store.urn,
        store.versioning.versioning_configuration,
        pulumi.Output.all(
            block.block_public_acls,
            block.block_public_policy,
            block.ignore_public_acls,
            block.restrict_public_buckets,
        ),
        store.lifecycle.rules,
    ).apply(check)
