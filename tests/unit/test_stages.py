"""Properties every stage in stacks/ must have; a new stack file is checked automatically.

The cross-target tests run on every stage; the resource-level tests here are AWS's (each other
target has its own file, e.g. test_azure_stages.py), run on every AWS stage.
"""

from __future__ import annotations

import base64
import ipaddress
import json

import pytest

from components.contract import CONTRACT_KEYS
from components.spec import PRIVATE_RANGES
from stageline.plan.mocks import STACK_REFERENCE
from stageline.plan.runner import StagePlan
from stageline.plan.runner import unwrap_secrets as plain
from stageline.stack_files import read_stack_file
from tests.conftest import REPO_STACKS, all_stack_names
from tests.unit.planned import logical_name, of_type, one

STAGES = all_stack_names()
TARGET_OF = {s: read_stack_file(REPO_STACKS / f"Pulumi.{s}.yaml").values["target"] for s in STAGES}
AWS_STAGES = [s for s in STAGES if TARGET_OF[s] == "aws"]
# Compared with prod: prod itself is the reference, not a case.
NOT_PROD = [s for s in STAGES if s != "prod"]
PROD_TARGET_STAGES = [s for s in NOT_PROD if TARGET_OF[s] == TARGET_OF["prod"]]
CONCERNS = ("network", "compute", "database", "storage", "observability")
SENSITIVE_PORTS = (22, 5432)
OPEN_WORLD = {"0.0.0.0/0", "::/0"}
SSE = "bucketServerSideEncryptionConfiguration"


def components_and_types(plan: StagePlan) -> tuple[set[str], set[str]]:
    components = {
        f"{r.type}/{logical_name(plan, r)}"
        for r in plan.resources
        if not r.custom and r.type != "pulumi:pulumi:Stack"
    }
    # The StackReference reads the upstream; it is promotion wiring, not part of the environment.
    types = {r.type for r in plan.resources if r.custom and r.type != STACK_REFERENCE}
    return components, types


def concern_components(plan: StagePlan) -> dict[str, tuple[str, str]]:
    """Concern -> (component type, logical name), for the environment and its five concerns."""
    found: dict[str, tuple[str, str]] = {}
    for r in plan.resources:
        if r.custom or r.type == "pulumi:pulumi:Stack":
            continue
        concern = r.type.split(":")[1]
        if concern in ("environment", *CONCERNS):
            assert concern not in found, f"{plan.stack}: two {concern} components: {r.urn}"
            found[concern] = (r.type, logical_name(plan, r))
    return found


def shape(value: object) -> object:
    """A value's structure with the values themselves left out: what a consumer relies on.

    A list's shape is that of its items, None when it is empty (an on-prem site has no public
    subnets): an empty list fits a list of anything.
    """
    value = plain(value)
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = {json.dumps(shape(v), sort_keys=True) for v in value}
        assert len(items) <= 1, f"a list of mixed shapes: {value}"
        return ["list", json.loads(items.pop()) if items else None]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def same_shape(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_shape(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return a[1] is None or b[1] is None or same_shape(a[1], b[1])
    return a == b


@pytest.mark.parametrize("stage", STAGES)
def test_every_target_builds_the_five_concerns(
    repo_plans: dict[str, StagePlan], stage: str
) -> None:
    plan = repo_plans[stage]
    components = concern_components(plan)
    prefix = {"aws": "Aws", "azure": "Azure", "gcp": "Gcp", "libvirt": "Libvirt"}[TARGET_OF[stage]]
    expected = {c: (f"stageline:{c}:{prefix}{c.title()}", c) for c in CONCERNS}
    expected["environment"] = ("stageline:environment:EnvironmentTemplate", "<stage>")
    assert components == expected, f"{stage} ({TARGET_OF[stage]}): {components}"
    for concern in CONCERNS:
        component = f"::{plan.stack}-{concern}"
        children = [r for r in plan.resources if r.custom and r.parent.endswith(component)]
        assert children, f"{stage}: the {concern} component declares no resources"


@pytest.mark.parametrize("stage", NOT_PROD)
def test_contract_has_the_same_keys_and_shapes_on_every_target(
    repo_plans: dict[str, StagePlan], stage: str
) -> None:
    exports = repo_plans[stage].exports
    reference = repo_plans["prod"].exports
    assert set(exports) == set(CONTRACT_KEYS), f"{stage}: {sorted(exports)}"
    for key in CONTRACT_KEYS:
        assert same_shape(shape(exports[key]), shape(reference[key])), (
            f"{stage} ({TARGET_OF[stage]}) exports {key} shaped {shape(exports[key])}, "
            f"prod ({TARGET_OF['prod']}) {shape(reference[key])}"
        )
    assert plain(exports["target"]) == TARGET_OF[stage]


# What a DR replica of prod adds (failover routing, replication into its store) and drops
# (a replica inherits its primary's password): its only structural differences from prod.
DR_COMPONENTS = {"stageline:routing:AwsRouting/routing"}
DR_TYPES = {
    "aws:route53/healthCheck:HealthCheck",
    "aws:route53/record:Record",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
}
REPLICA_DROPS = {"random:index/randomPassword:RandomPassword"}


@pytest.mark.parametrize("stage", PROD_TARGET_STAGES)
def test_parity_with_prod(repo_plans: dict[str, StagePlan], stage: str) -> None:
    prod_components, prod_types = components_and_types(repo_plans["prod"])
    components, types = components_and_types(repo_plans[stage])
    if "disasterRecovery" in read_stack_file(REPO_STACKS / f"Pulumi.{stage}.yaml").values:
        assert components >= DR_COMPONENTS and types >= DR_TYPES, (components, types)
        components, types = components - DR_COMPONENTS, (types - DR_TYPES) | REPLICA_DROPS
    assert components == prod_components, (
        f"{stage} differs from prod in components: "
        f"missing {prod_components - components}, extra {components - prod_components}"
    )
    assert types == prod_types, (
        f"{stage} differs from prod in resource types: "
        f"missing {prod_types - types}, extra {types - prod_types}"
    )


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_encryption_is_on(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    db = one(plan, "aws:rds/instance:Instance")
    assert db.inputs["storageEncrypted"] is True, db.urn
    sse = one(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    algorithm = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
    assert algorithm in {"aws:kms", "AES256"}, sse.urn
    lt = one(plan, "aws:ec2/launchTemplate:LaunchTemplate")
    assert all(b["ebs"]["encrypted"] == "true" for b in lt.inputs["blockDeviceMappings"]), lt.urn
    topic = one(plan, "aws:sns/topic:Topic")
    assert topic.inputs.get("kmsMasterKeyId"), topic.urn
    policy = one(plan, "aws:s3/bucketPolicy:BucketPolicy")
    assert '"aws:SecureTransport": "false"' in policy.inputs["policy"], policy.urn


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_no_database_is_publicly_reachable(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    db = one(plan, "aws:rds/instance:Instance")
    assert db.inputs["publiclyAccessible"] is False, db.urn
    subnet_group = one(plan, "aws:rds/subnetGroup:SubnetGroup")
    private = plain(plan.exports["network"]["privateSubnetIds"])
    assert sorted(subnet_group.inputs["subnetIds"]) == sorted(private), subnet_group.urn
    db_sg = next(
        r for r in of_type(plan, "aws:ec2/securityGroup:SecurityGroup") if "database" in r.name
    )
    for rule in db_sg.inputs["ingress"]:
        for cidr in rule["cidrBlocks"]:
            net = ipaddress.ip_network(cidr)
            assert any(net.subnet_of(r) for r in PRIVATE_RANGES), f"{db_sg.urn}: {cidr}"


def _covers(rule: dict, port: int) -> bool:
    if str(rule.get("protocol")) in {"-1", "all"}:
        return True
    return int(rule.get("fromPort", 0)) <= port <= int(rule.get("toPort", 0))


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_no_open_ingress_to_ssh_or_database(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    groups = of_type(plan, "aws:ec2/securityGroup:SecurityGroup")
    assert len(groups) >= 2, [r.urn for r in plan.resources]
    for sg in groups:
        for rule in sg.inputs.get("ingress", []):
            sources = set(rule.get("cidrBlocks", [])) | set(rule.get("ipv6CidrBlocks", []))
            for port in SENSITIVE_PORTS:
                assert not (_covers(rule, port) and sources & OPEN_WORLD), (
                    f"{sg.urn} opens port {port} to the world: {rule}"
                )
    assert not of_type(plan, "aws:ec2/securityGroupRule:SecurityGroupRule")


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_tags_carry_stage_and_release(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    release = plain(plan.exports["release"])["appVersion"]
    tagged = [r for r in plan.resources if r.custom and "tags" in r.inputs]
    assert len(tagged) >= 15, f"{stage}: only {len(tagged)} tagged resources"
    for r in tagged:
        tags = r.inputs["tags"]
        if isinstance(tags, list):  # auto scaling groups take a list of key/value pairs
            tags = {t["key"]: t["value"] for t in tags}
        assert tags.get("stageline-stage") == stage, f"{r.urn}: {tags}"
        assert tags.get("stageline-release") == release, f"{r.urn}: {tags}"


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_compute_runs_the_release_artifact(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    artifact = plain(plan.exports["release"])["artifact"]
    lt = one(plan, "aws:ec2/launchTemplate:LaunchTemplate")
    assert artifact in base64.b64decode(lt.inputs["userData"]).decode(), lt.urn


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_sizes_follow_the_stack_file(repo_plans: dict[str, StagePlan], stage: str) -> None:
    values = read_stack_file(REPO_STACKS / f"Pulumi.{stage}.yaml").values
    plan = repo_plans[stage]
    asg = one(plan, "aws:autoscaling/group:Group")
    # A pilot light keeps its group at zero until a failover.
    pilot = values.get("disasterRecovery", {}).get("mode") == "pilot-light"
    assert asg.inputs["minSize"] == (0 if pilot else values["compute"]["minCount"]), asg.urn
    assert asg.inputs["maxSize"] == values["compute"]["maxCount"], asg.urn
    assert len(of_type(plan, "aws:ec2/subnet:Subnet")) == 2 * values["network"]["zoneCount"]
    db = one(plan, "aws:rds/instance:Instance")
    assert db.inputs["allocatedStorage"] == values["database"]["storageGb"], db.urn


def test_prod_is_highly_available_protected_and_retained(repo_plans: dict[str, StagePlan]) -> None:
    plan = repo_plans["prod"]
    db = one(plan, "aws:rds/instance:Instance")
    assert db.inputs["multiAz"] is True, db.urn
    assert db.inputs["deletionProtection"] is True, db.urn
    assert db.protect and db.retain_on_delete, db.urn
    assert db.inputs["skipFinalSnapshot"] is False, db.urn
    assert db.inputs["backupRetentionPeriod"] >= 7, db.urn
    bucket = one(plan, "aws:s3/bucket:Bucket")
    assert bucket.protect and bucket.retain_on_delete, bucket.urn
    assert bucket.inputs["forceDestroy"] is False, bucket.urn
    logs = one(plan, "aws:cloudwatch/logGroup:LogGroup")
    assert logs.inputs["retentionInDays"] >= 365, logs.urn
    versioning = one(plan, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", versioning.urn
    assert len(of_type(plan, "aws:ec2/natGateway:NatGateway")) == 3


def test_ephemeral_ci_is_smallest_and_unprotected(repo_plans: dict[str, StagePlan]) -> None:
    plan = repo_plans["ci"]
    db = one(plan, "aws:rds/instance:Instance")
    assert not db.protect and db.inputs["skipFinalSnapshot"] is True, db.urn
    assert one(plan, "aws:s3/bucket:Bucket").inputs["forceDestroy"] is True
    assert db.inputs["instanceClass"] == "db.t4g.micro", db.urn
