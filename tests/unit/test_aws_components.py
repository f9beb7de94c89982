"""AWS components built directly under Pulumi mocks; assertions run through Output.apply."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pytest

from components.aws.compute import AwsCompute
from components.aws.database import AwsDatabase, parameter_family
from components.aws.network import AwsNetwork
from components.aws.observability import AwsObservability
from components.aws.storage import AwsStorage
from components.compute import APP_ENV_FILE, AppConnection, ComputeArgs
from components.database import DatabaseArgs
from components.network import plan_subnets
from components.observability import ObservabilityArgs
from tests.unit.args import (
    compute_args,
    database_args,
    network_args,
    observability_args,
    storage_args,
)
from tests.unit.recording import (
    RecordingMocks,
    RequestMonitor,
    after_registration,
    program_test,
    record,
)

ACCOUNT = "111122223333"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
# How the engine's wire format marks a secret value: {SIG_KEY: SECRET_SIG, "value": ...}.
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# ARNs shaped as AWS returns them, so that policies built from them can be checked.
REAL_ARNS = {
    "aws:iam/role:Role": lambda n: f"arn:aws:iam::{ACCOUNT}:role/{n}",
    "aws:kms/key:Key": lambda n: f"arn:aws:kms:us-east-2:{ACCOUNT}:key/{n}",
    "aws:sns/topic:Topic": lambda n: f"arn:aws:sns:us-east-2:{ACCOUNT}:{n}",
    "aws:secretsmanager/secret:Secret": lambda n: (
        f"arn:aws:secretsmanager:us-east-2:{ACCOUNT}:secret:{n}-AbCdEf"
    ),
}


def _real_shapes(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    if args.typ in REAL_ARNS:
        return {"arn": REAL_ARNS[args.typ](args.name)}
    if args.typ == "aws:secretsmanager/secretVersion:SecretVersion":
        return {"versionId": f"{args.name}-version-1"}
    return {}


@pytest.fixture
def monitor() -> RequestMonitor:
    return record(_real_shapes)


@pytest.fixture
def mocks(monitor: RequestMonitor) -> RecordingMocks:
    return monitor.mocks  # type: ignore[return-value]


def test_subnet_plan_is_disjoint_and_inside_the_network() -> None:
    plan = plan_subnets("10.50.0.0/16", 3)
    assert len(plan.public) == len(plan.private) == 3
    assert len(set(plan.public + plan.private)) == 6
    assert all(s.startswith("10.50.") for s in plan.public + plan.private)


@pytest.mark.parametrize(("nat", "expected"), [("none", 0), ("single", 1), ("per-zone", 3)])
@program_test
def test_network_nat_follows_the_spec(mocks: RecordingMocks, nat: str, expected: int):
    zones = ("us-east-1a", "us-east-1b", "us-east-1c")
    net = AwsNetwork("n", network_args(cidr="10.50.0.0/16", zones=zones, nat=nat))  # type: ignore[arg-type]
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
    ).apply(after_registration(check))


def _db_args(**overrides) -> DatabaseArgs:
    base = dict(
        engine_version="16",
        size="small",
        storage_gb=20,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.0.64.0/18", "10.0.128.0/18"),
    )
    return database_args(**{**base, **overrides})  # type: ignore[arg-type]


@program_test
def test_database_generates_a_secret_password(mocks: RecordingMocks):
    db = AwsDatabase("d", _db_args())

    def check(args: list) -> None:
        urn, secret = args
        assert secret, f"{urn}: the instance password is not a secret"
        assert mocks.of_type(RANDOM_PASSWORD), f"{urn}: no RandomPassword"

    return pulumi.Output.all(db.urn, pulumi.Output.is_secret(db.instance.password)).apply(
        after_registration(check)
    )


@program_test
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
        assert not mocks.of_type(RANDOM_PASSWORD), f"{urn}: generated a password over the given one"
        assert multi_az is True, urn
        assert retention == 14, urn
        assert protected is True, urn
        sg = next(r for r in mocks.created if r.typ == "aws:ec2/securityGroup:SecurityGroup")
        assert sg.inputs["ingress"][0]["cidrBlocks"] == ["10.0.64.0/18", "10.0.128.0/18"], urn

    i = db.instance
    return pulumi.Output.all(
        db.urn, i.multi_az, i.backup_retention_period, i.deletion_protection
    ).apply(after_registration(check))


@pytest.mark.parametrize(("versioning", "status"), [(True, "Enabled"), (False, "Suspended")])
@program_test
def test_storage_versioning_follows_the_spec(mocks: RecordingMocks, versioning: bool, status: str):
    store = AwsStorage("s", storage_args(versioning=versioning, retention_days=5))
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
    ).apply(after_registration(check))


# --- alarms reach the topic -----------------------------------------------------------------


def _statements(policy: str) -> list[dict[str, Any]]:
    return json.loads(policy)["Statement"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _obs_args(**overrides: Any) -> ObservabilityArgs:
    return observability_args(
        **{"compute_group": "g", "database_identifier": "db", **overrides}  # type: ignore[arg-type]
    )


@program_test
def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(monitor: RequestMonitor):
    obs = AwsObservability("o", _obs_args())
    mocks: RecordingMocks = monitor.mocks  # type: ignore[assignment]

    def check(args: list) -> None:
        urn, topic_key, key_arn = args[:3]
        assert len(args) == 6, f"{urn}: {len(args) - 3} alarms"
        assert topic_key == key_arn, f"{urn}: topic encrypted with {topic_key}, not the stage key"
        key = mocks.named("o-alarms-key")
        assert key.inputs.get("enableKeyRotation") is True, f"{urn}: key rotation off"
        key_policy = _statements(mocks.named("o-alarms-key-policy").inputs["policy"])
        root = [s for s in key_policy if s["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}]
        assert root and root[0]["Action"] == "kms:*", f"{urn}: the account cannot administer"
        cw = [s for s in key_policy if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
        assert len(cw) == 1 and cw[0]["Effect"] == "Allow", f"{urn}: {key_policy}"
        assert set(_as_list(cw[0]["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}, urn

        topic_policy = _statements(mocks.named("o-alarms-policy").inputs["policy"])
        publish = [
            s
            for s in topic_policy
            if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
            and "sns:Publish" in _as_list(s["Action"])
        ]
        assert publish and publish[0]["Effect"] == "Allow", f"{urn}: {topic_policy}"
        assert publish[0]["Resource"] == f"arn:aws:sns:us-east-2:{ACCOUNT}:o-alarms", urn
        # Each alarm waits for both policies, so the first notification is not dropped.
        policies = {monitor.urn_of("o-alarms-key-policy"), monitor.urn_of("o-alarms-policy")}
        for alarm in mocks.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
            deps = set(monitor.requests[alarm.name].dependencies)
            assert policies <= deps, f"{urn}: {alarm.name} does not wait for {policies - deps}"

    return pulumi.Output.all(
        obs.urn,
        obs.topic.kms_master_key_id,
        obs.key.arn,
        *[alarm.arn for alarm in obs.alarms],  # registered last: after both policies
    ).apply(after_registration(check))


# --- the group scales ------------------------------------------------------------------------


def _compute_args(**overrides: Any) -> ComputeArgs:
    base: dict[str, Any] = dict(
        size="xsmall",
        min_count=1,
        max_count=4,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        ingress_cidr="10.0.0.0/16",
        artifact="ghcr.io/acme/shop:1.0.0",
    )
    return compute_args(**{**base, **overrides})


PASSWORD = "pw-never-in-user-data-7f3a"


def _app(**overrides: Any) -> AppConnection:
    base: dict[str, Any] = dict(
        database_host="db.internal.example",
        database_port=5432,
        database_name="app",
        database_user="stageline",
        database_password=pulumi.Output.secret(PASSWORD),
        database_id="arn:aws:rds:us-east-2:111122223333:db:d",
        bucket_name="unit-bucket",
        bucket_id="arn:aws:s3:::unit-bucket",
    )
    return AppConnection(**{**base, **overrides})


def _script(user_data: str) -> str:
    return base64.b64decode(user_data).decode()


@program_test
def test_group_tracks_the_spec_average_cpu(mocks: RecordingMocks):
    compute = AwsCompute("c", _compute_args(target_cpu_percent=42))

    def check(args: list) -> None:
        urn, group_name, _ = args
        policies = mocks.of_type("aws:autoscaling/policy:Policy")
        assert len(policies) == 1, f"{urn}: {len(policies)} scaling policies"
        inputs = policies[0].inputs
        assert inputs["policyType"] == "TargetTrackingScaling", f"{urn}: {inputs}"
        assert inputs["autoscalingGroupName"] == group_name, f"{urn}: {inputs}"
        tracking = inputs["targetTrackingConfiguration"]
        metric = tracking["predefinedMetricSpecification"]["predefinedMetricType"]
        assert metric == "ASGAverageCPUUtilization", f"{urn}: {tracking}"
        assert tracking["targetValue"] == 42, f"{urn}: {tracking}"
        asg = mocks.named("c-asg").inputs
        assert "desiredCapacity" not in asg, f"{urn}: a fixed desired capacity fights scaling"

    return pulumi.Output.all(
        compute.urn, compute.group.name, compute.scaling_policy.policy_type
    ).apply(after_registration(check))


# --- RDS upgrades in one up --------------------------------------------------------------------


@pytest.mark.parametrize(("version", "family"), [("16", "postgres16"), ("16.4", "postgres16")])
def test_parameter_family_follows_the_major_version(version: str, family: str) -> None:
    assert parameter_family(version) == family


@pytest.mark.parametrize("version", ["15", "17"])
@program_test
def test_database_upgrades_apply_in_one_up(monitor: RequestMonitor, version: str):
    db = AwsDatabase("d", _db_args(engine_version=version, sku="db.m6g.large"))
    mocks: RecordingMocks = monitor.mocks  # type: ignore[assignment]

    def check(args: list) -> None:
        urn, params_name = args
        params = mocks.named("d-params").inputs
        assert params["family"] == f"postgres{version}", f"{urn}: {params}"
        # A fixed name could not coexist with its replacement (the new family's group).
        assert "name" not in params and params.get("namePrefix"), f"{urn}: {params}"
        assert not monitor.requests["d-params"].deleteBeforeReplace, (
            f"{urn}: the old parameter group would be deleted while the instance uses it"
        )
        instance = mocks.named("d-pg").inputs
        assert instance["engineVersion"] == version, f"{urn}: {instance}"
        assert instance.get("allowMajorVersionUpgrade") is True, f"{urn}: major upgrade refused"
        assert instance.get("applyImmediately") is True, f"{urn}: changes wait for maintenance"
        assert instance["parameterGroupName"] == params_name, f"{urn}: {instance}"

    return pulumi.Output.all(db.urn, mocks_param_name(db)).apply(after_registration(check))


def mocks_param_name(db: AwsDatabase) -> pulumi.Output[str]:
    return db.instance.parameter_group_name


@program_test
def test_final_snapshot_name_is_unique_to_the_instance(mocks: RecordingMocks):
    db = AwsDatabase("d", _db_args(protect=True))

    def check(args: list) -> None:
        urn, snapshot = args
        suffixes = [r for r in mocks.of_type("random:index/randomString:RandomString")]
        assert len(suffixes) == 1, f"{urn}: {[r.name for r in suffixes]}"
        # PlanMocks computes every RandomString as a1b2c3.
        assert snapshot == "d-final-a1b2c3", (
            f"{urn}: {snapshot}: a fixed name collides with the snapshot of an earlier destroy"
        )

    return pulumi.Output.all(db.urn, db.instance.final_snapshot_identifier).apply(
        after_registration(check)
    )


# --- architecture of the image -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sku", "arch"),
    [(None, "x86_64"), ("m6i.large", "x86_64"), ("m7g.large", "arm64"), ("t4g.small", "arm64")],
)
@program_test
def test_launch_template_image_matches_the_instance_architecture(
    mocks: RecordingMocks, sku: str | None, arch: str
):
    compute = AwsCompute("c", _compute_args(sku=sku))

    def check(args: list) -> None:
        urn, image, instance_type = args
        assert image.endswith(f"-{arch}"), f"{urn}: {instance_type} boots {image}"
        assert image.startswith("resolve:ssm:/aws/service/ami-amazon-linux-latest/"), urn

    lt = compute.launch_template
    return pulumi.Output.all(compute.urn, lt.image_id, lt.instance_type).apply(
        after_registration(check)
    )


@program_test
def test_containers_can_reach_the_instance_metadata(mocks: RecordingMocks):
    compute = AwsCompute("c", _compute_args(app=_app()))

    def check(args: list) -> None:
        urn, metadata = args
        assert metadata["http_tokens"] == "required", f"{urn}: {metadata}"
        # The app's container is one hop behind docker's bridge: hop limit 1 starves it of
        # role credentials for its bucket.
        assert metadata.get("http_put_response_hop_limit", 1) >= 2, f"{urn}: {metadata}"

    return pulumi.Output.all(compute.urn, compute.launch_template.metadata_options).apply(
        after_registration(check)
    )


# --- logs, database and bucket for the application --------------------------------------------


@program_test
def test_container_logs_go_to_the_stage_log_group(mocks: RecordingMocks):
    compute = AwsCompute("c", _compute_args(app=_app()))
    obs = AwsObservability("o", _obs_args())

    def check(args: list) -> None:
        urn, user_data, group_name, _ = args
        script = _script(user_data)
        assert group_name == "/stageline/unit/app", f"{urn}: group {group_name} not deterministic"
        run = next(line for line in script.splitlines() if "docker run" in line)
        assert "--log-driver awslogs" in run, f"{urn}: {run}"
        assert f"--log-opt awslogs-group={group_name}" in run, f"{urn}: {run}"
        assert '--log-opt awslogs-region="$REGION"' in run, f"{urn}: {run}"
        assert "REGION=$(retry imds placement/region)" in script, f"{urn}: region never set"
        access = _statements(mocks.named("c-role-access").inputs["policy"])
        logs = [s for s in access if "logs:PutLogEvents" in _as_list(s["Action"])]
        assert logs, f"{urn}: the role cannot write logs"
        assert logs[0]["Resource"] == f"arn:aws:logs:*:{ACCOUNT}:log-group:{group_name}:*", urn

    return pulumi.Output.all(
        compute.urn, compute.launch_template.user_data, obs.log_group.name, compute.access_policy.id
    ).apply(after_registration(check))


def test_fixed_name_log_group_is_deleted_before_it_is_replaced(monitor: RequestMonitor):
    @pulumi.runtime.test
    def build():
        AwsObservability("o", _obs_args())

    build()
    assert monitor.requests["o-logs"].deleteBeforeReplace, (
        "the log group has a fixed name: create-before-delete would collide on replacement"
    )


@program_test
def test_app_gets_its_database_and_bucket_without_the_password_in_user_data(
    monitor: RequestMonitor,
):
    compute = AwsCompute("c", _compute_args(app=_app()))
    mocks: RecordingMocks = monitor.mocks  # type: ignore[assignment]
    assert compute.password_secret is not None and compute.password_version is not None

    def check(args: list) -> None:
        urn, user_data, secret_arn, stored_secret = args[:4]
        script = _script(user_data)
        assert PASSWORD not in script, f"{urn}: the password is in plain user data"
        assert PASSWORD not in user_data, urn
        assert stored_secret, f"{urn}: the secret version's value is not a Pulumi secret"
        given = mocks.named("c-db-password-value").inputs["secretString"]
        assert isinstance(given, dict) and given.get(SIG_KEY) == SECRET_SIG, f"{urn}: in plain text"
        assert given["value"] == PASSWORD, f"{urn}: the secret holds something else"
        for line in (
            "DATABASE_HOST=db.internal.example",
            "DATABASE_PORT=5432",
            "DATABASE_NAME=app",
            "DATABASE_USER=stageline",
            "BUCKET_NAME=unit-bucket",
            f"printf 'AWS_REGION=%s\\n' \"$REGION\" >> {APP_ENV_FILE}",
        ):
            assert line in script.splitlines(), f"{urn}: {line} missing from the app environment"
        assert f"--secret-id {secret_arn}" in script, f"{urn}: password not fetched at boot"
        # A new password rolls the instances, which read it only at boot.
        assert "c-db-password-value-version-1" in script, f"{urn}: no password version"
        assert f"chmod 0600 {APP_ENV_FILE}" in script, urn
        run = next(line for line in script.splitlines() if "docker run" in line)
        assert f"--env-file {APP_ENV_FILE}" in run, f"{urn}: {run}"

        access = _statements(mocks.named("c-role-access").inputs["policy"])
        by_action = {a: s for s in access for a in _as_list(s["Action"])}
        assert by_action["secretsmanager:GetSecretValue"]["Resource"] == secret_arn, urn
        assert by_action["s3:ListBucket"]["Resource"] == "arn:aws:s3:::unit-bucket", urn
        for action in ("s3:GetObject", "s3:PutObject"):
            assert by_action[action]["Resource"] == "arn:aws:s3:::unit-bucket/*", urn
        assert all(s["Effect"] == "Allow" and s["Resource"] != "*" for s in access), urn
        assert not any(a.startswith("kms:") for a in by_action), f"{urn}: kms not needed"
        # Instances boot only once the secret holds the password and the role may read it.
        deps = set(monitor.requests["c-asg"].dependencies)
        for needed in ("c-db-password-value", "c-role-access"):
            assert monitor.urn_of(needed) in deps, f"{urn}: the group does not wait for {needed}"

    return pulumi.Output.all(
        compute.urn,
        compute.launch_template.user_data,
        compute.password_secret.arn,
        pulumi.Output.is_secret(compute.password_version.secret_string),
        compute.access_policy.policy,
        compute.group.name,
    ).apply(after_registration(check))


@program_test
def test_role_has_no_app_grants_when_nothing_is_wired(mocks: RecordingMocks):
    compute = AwsCompute("c", _compute_args())

    def check(args: list) -> None:
        urn, user_data, _ = args
        access = _statements(mocks.named("c-role-access").inputs["policy"])
        actions = {a for s in access for a in _as_list(s["Action"])}
        assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"}, f"{urn}: {actions}"
        assert not mocks.of_type("aws:secretsmanager/secret:Secret"), urn
        assert "secretsmanager" not in _script(user_data), urn

    return pulumi.Output.all(
        compute.urn, compute.launch_template.user_data, compute.access_policy.id
    ).apply(after_registration(check))


# --- first boot waits for the NAT ----------------------------------------------------------------


@pytest.mark.parametrize(("nat", "gateways"), [("single", 1), ("per-zone", 2)])
@program_test
def test_group_waits_for_the_private_default_routes(
    monitor: RequestMonitor, nat: str, gateways: int
):
    zones = ("us-east-2a", "us-east-2b")
    net = AwsNetwork("n", network_args(cidr="10.60.0.0/16", zones=zones, nat=nat))  # type: ignore[arg-type]
    compute = AwsCompute("c", _compute_args(subnet_ids=net.private_subnet_ids, egress=net.egress))
    mocks: RecordingMocks = monitor.mocks  # type: ignore[assignment]

    def check(args: list) -> None:
        urn = args[0]
        nats = [r.name for r in mocks.of_type("aws:ec2/natGateway:NatGateway")]
        routes = [
            r.name
            for r in mocks.of_type("aws:ec2/route:Route")
            if r.inputs.get("natGatewayId") is not None
        ]
        assert len(nats) == gateways and len(routes) == len(zones), f"{urn}: {nats} {routes}"
        deps = set(monitor.requests["c-asg"].dependencies)
        for name in nats + routes:
            assert monitor.urn_of(name) in deps, f"{urn}: instances do not wait for {name}"
        # The NAT gateways (and their addresses) need the internet gateway attached first.
        igw = monitor.urn_of("n-igw")
        for name in nats + [f"{n}-eip" for n in nats]:
            assert igw in monitor.requests[name].dependencies, f"{urn}: {name} before the IGW"

    return pulumi.Output.all(compute.urn, compute.group.name).apply(after_registration(check))
