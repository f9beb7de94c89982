"""Launch template and auto scaling group running the release artifact in the private tier."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.architecture import ami_parameter
from components.aws.boot import BootSettings, boot_script
from components.aws.logs import log_group_arn_pattern, stage_log_group_name
from components.aws.sizes import EC2_TYPES
from components.compute import (
    AppConnection,
    Compute,
    ComputeArgs,
    app_environment_of,
)

# Session Manager access for operators. Logs go through the scoped inline policy below, not
# the broad CloudWatchAgentServerPolicy (no agent runs on the instances).
MANAGED_POLICIES = ("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",)
IMDS_HOP_LIMIT = 2
"""The instance itself plus docker's bridge network."""
WARMUP_SECONDS = 300
"""Boot, docker install and image pull: a new instance's CPU is not representative before."""


def user_data(settings: BootSettings) -> str:
    """The boot script, base64 as EC2 expects."""
    return base64.b64encode(boot_script(settings).encode()).decode()


def arn_parts(arn: str) -> tuple[str, str]:
    """(partition, account) of an ARN such as the instance role's."""
    parts = arn.split(":")
    return parts[1], parts[4]


def instance_policy(
    role_arn: str, log_group: str, secret_arn: str | None, bucket_arn: str | None
) -> str:
    """Least privilege for the application: its own log group, its one secret, its own bucket.

    No KMS statement: the bucket's SSE-KMS uses the AWS managed `aws/s3` key, whose key policy
    already lets any principal of the account use it through S3, and the secret uses the
    `aws/secretsmanager` key likewise.
    """
    partition, account = arn_parts(role_arn)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AppLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_group_arn_pattern(partition, account, log_group),
        }
    ]
    if secret_arn:
        statements.append(
            {
                "Sid": "DatabasePassword",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn,
            }
        )
    if bucket_arn:
        statements += [
            {
                "Sid": "BucketList",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": bucket_arn,
            },
            {
                "Sid": "BucketObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": f"{bucket_arn}/*",
            },
        ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class AwsCompute(Compute):
    security_group: aws.ec2.SecurityGroup
    role: aws.iam.Role
    password_secret: aws.secretsmanager.Secret | None = None
    password_version: aws.secretsmanager.SecretVersion | None = None
    launch_template: aws.ec2.LaunchTemplate
    access_policy: aws.iam.RolePolicy
    group: aws.autoscaling.Group
    scaling_policy: aws.autoscaling.Policy

    def __init__(
        self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:compute:AwsCompute", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)
        instance_type = args.spec.sku or EC2_TYPES[args.spec.size]
        log_group = stage_log_group_name()

        # Only the stage network reaches the app port; there is no SSH ingress at all
        # (operators use SSM Session Manager through the instance role).
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.network_id,
            description="stageline application instances",
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": args.spec.app_port,
                    "to_port": args.spec.app_port,
                    "cidr_blocks": [args.ingress_cidr],
                    "description": "application port from inside the stage network",
                }
            ],
            egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
            tags={**tags, "Name": f"{name}-sg"},
            opts=mine,
        )

        self.role = role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=tags,
            opts=mine,
        )
        role_child = pulumi.ResourceOptions(parent=role)
        ready: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-role-policy-{i}", role=role.name, policy_arn=policy, opts=role_child
            )
            for i, policy in enumerate(MANAGED_POLICIES)
        ]
        profile = aws.iam.InstanceProfile(
            f"{name}-profile", role=role.name, tags=tags, opts=role_child
        )

        app = args.app
        secret_arn: pulumi.Input[str | None] = None
        password_version: pulumi.Input[str | None] = None
        if app is not None:
            secret_arn = self._password_secret(name, app, tags, ready)
            assert self.password_version is not None
            password_version = self.password_version.version_id
        bucket_arn = app.bucket_id if app is not None else None
        self.access_policy = aws.iam.RolePolicy(
            f"{name}-role-access",
            role=role.id,
            policy=pulumi.Output.all(role.arn, secret_arn, bucket_arn).apply(
                lambda a: instance_policy(a[0], log_group, a[1], a[2])
            ),
            opts=role_child,
        )
        ready.append(self.access_policy)

        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            # The image must match the type's CPU: a Graviton sku boots the arm64 image.
            image_id=ami_parameter(instance_type),
            instance_type=instance_type,
            vpc_security_group_ids=[self.security_group.id],
            iam_instance_profile={"arn": profile.arn},
            user_data=self._user_data(args, log_group, secret_arn, password_version),
            # IMDSv2 only. The application runs in a container on docker's bridge network, one
            # hop further than the instance: with EC2's default hop limit of 1 the token reply
            # never reaches it, and it gets no role credentials for its bucket.
            metadata_options={
                "http_tokens": "required",
                "http_endpoint": "enabled",
                "http_put_response_hop_limit": IMDS_HOP_LIMIT,
            },
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {"volume_size": 20, "volume_type": "gp3", "encrypted": "true"},
                }
            ],
            update_default_version=True,
            tag_specifications=[
                {"resource_type": "instance", "tags": tags},
                {"resource_type": "volume", "tags": tags},
            ],
            tags=tags,
            opts=mine,
        )

        self.group = aws.autoscaling.Group(
            f"{name}-asg",
            min_size=args.spec.min_count,
            max_size=args.spec.max_count,
            # desired_capacity is left to the scaling policy: setting it here would reset the
            # group to that size on every update.
            vpc_zone_identifiers=args.subnet_ids,
            launch_template={
                "id": self.launch_template.id,
                "version": self.launch_template.latest_version.apply(str),
            },
            # The ingress attaches its target group: an instance whose /healthz fails there is
            # replaced, not only one whose EC2 status checks fail (without a target group ELB
            # health falls back to those). Boot and image pull come first.
            health_check_type="ELB",
            health_check_grace_period=WARMUP_SECONDS,
            # A new release changes the launch template; roll instances instead of waiting for
            # them to be recycled.
            instance_refresh={"strategy": "Rolling", "preferences": {"min_healthy_percentage": 50}},
            tags=[
                {"key": k, "value": v, "propagate_at_launch": True}
                for k, v in {**tags, "Name": name}.items()
            ],
            # First boot installs packages and pulls the image: the private default route (NAT)
            # must exist, and the role must already grant the secret and the log group.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.egress, *ready]),
        )
        # Target tracking keeps average CPU near the spec's target between min and max count.
        self.scaling_policy = aws.autoscaling.Policy(
            f"{name}-cpu-target",
            autoscaling_group_name=self.group.name,
            policy_type="TargetTrackingScaling",
            estimated_instance_warmup=WARMUP_SECONDS,
            target_tracking_configuration={
                "predefined_metric_specification": {
                    "predefined_metric_type": "ASGAverageCPUUtilization"
                },
                "target_value": float(args.spec.target_cpu_percent),
            },
            opts=pulumi.ResourceOptions(parent=self.group),
        )

        self._publish(self.group.name)

    def _password_secret(
        self,
        name: str,
        app: AppConnection,
        tags: dict[str, str],
        ready: list[pulumi.Resource],
    ) -> pulumi.Output[str]:
        """The database password in Secrets Manager; instances read it at boot."""
        # Auto-named, so a destroyed stage's secret (kept for its recovery window) never blocks
        # the name of the next one.
        self.password_secret = aws.secretsmanager.Secret(
            f"{name}-db-password",
            description="stageline: the application's database password",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.password_version = aws.secretsmanager.SecretVersion(
            f"{name}-db-password-value",
            secret_id=self.password_secret.id,
            secret_string=pulumi.Output.secret(app.database_password),
            opts=pulumi.ResourceOptions(
                parent=self.password_secret, additional_secret_outputs=["secret_string"]
            ),
        )
        ready.append(self.password_version)
        return self.password_secret.arn

    @staticmethod
    def _user_data(
        args: ComputeArgs,
        log_group: str,
        secret_arn: pulumi.Input[str | None],
        password_version: pulumi.Input[str | None],
    ) -> pulumi.Output[str]:
        env = app_environment_of(args)
        return pulumi.Output.all(env, secret_arn, password_version).apply(
            lambda v: user_data(
                BootSettings(
                    artifact=args.artifact,
                    app_port=args.spec.app_port,
                    log_group=log_group,
                    environment=v[0],
                    password_secret_arn=v[1],
                    password_version=v[2],
                )
            )
        )
