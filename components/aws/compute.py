"""Launch template and auto scaling group running the release artifact in the private tier."""

from __future__ import annotations

import base64
import json
import shlex

import pulumi
import pulumi_aws as aws

from components.aws.sizes import EC2_TYPES
from components.compute import Compute, ComputeArgs

# Resolved by EC2 at launch, so a plan needs no AMI lookup call and instances get patched images.
AMI_PARAMETER = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
)


def user_data(artifact: str, app_port: int) -> str:
    """cloud-init script that runs the release's container image; base64 as EC2 expects."""
    script = "\n".join(
        [
            "#!/bin/bash",
            "set -euo pipefail",
            "dnf install -y docker",
            "systemctl enable --now docker",
            f"docker run -d --restart=always -p {app_port}:{app_port} "
            f"-e PORT={app_port} {shlex.quote(artifact)}",
        ]
    )
    return base64.b64encode(script.encode()).decode()


class AwsCompute(Compute):
    security_group: aws.ec2.SecurityGroup
    launch_template: aws.ec2.LaunchTemplate
    group: aws.autoscaling.Group

    def __init__(
        self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:compute:AwsCompute", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)

        # Only the stage network reaches the app port; there is no SSH ingress at all
        # (operators use SSM Session Manager through the instance role).
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.network_id,
            description="stageline application instances",
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": args.app_port,
                    "to_port": args.app_port,
                    "cidr_blocks": [args.ingress_cidr],
                    "description": "application port from inside the stage network",
                }
            ],
            egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
            tags={**tags, "Name": f"{name}-sg"},
            opts=mine,
        )

        role = aws.iam.Role(
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
        for i, policy in enumerate(MANAGED_POLICIES):
            aws.iam.RolePolicyAttachment(
                f"{name}-role-policy-{i}",
                role=role.name,
                policy_arn=policy,
                opts=pulumi.ResourceOptions(parent=role),
            )
        profile = aws.iam.InstanceProfile(
            f"{name}-profile", role=role.name, tags=tags, opts=pulumi.ResourceOptions(parent=role)
        )

        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            image_id=AMI_PARAMETER,
            instance_type=args.sku or EC2_TYPES[args.size],
            vpc_security_group_ids=[self.security_group.id],
            iam_instance_profile={"arn": profile.arn},
            user_data=user_data(args.artifact, args.app_port),
            metadata_options={"http_tokens": "required", "http_endpoint": "enabled"},
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
            min_size=args.min_count,
            max_size=args.max_count,
            vpc_zone_identifiers=args.subnet_ids,
            launch_template={
                "id": self.launch_template.id,
                "version": self.launch_template.latest_version.apply(str),
            },
            health_check_type="EC2",
            # A new release changes the launch template; roll instances instead of waiting for
            # them to be recycled.
            instance_refresh={"strategy": "Rolling", "preferences": {"min_healthy_percentage": 50}},
            tags=[
                {"key": k, "value": v, "propagate_at_launch": True}
                for k, v in {**tags, "Name": name}.items()
            ],
            opts=mine,
        )

        self.group_name = self.group.name
        self._register()
