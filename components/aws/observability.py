"""CloudWatch log group, an encrypted SNS topic for alarm actions, and the alarms."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.aws.logs import stage_log_group_name
from components.observability import (
    AlarmMetrics,
    Observability,
    ObservabilityArgs,
    watched_id,
    watched_metrics,
)

FREE_STORAGE_ALARM_BYTES = 2 * 1024**3
METRICS = AlarmMetrics(
    compute_cpu="CPUUtilization",
    database_cpu="CPUUtilization",
    database_storage="FreeStorageSpace",
    storage_threshold=FREE_STORAGE_ALARM_BYTES,
    storage_below=True,
)
NAMESPACES = {"compute": "AWS/EC2", "database": "AWS/RDS"}
DIMENSIONS = {"compute": "AutoScalingGroupName", "database": "DBInstanceIdentifier"}
CLOUDWATCH = "cloudwatch.amazonaws.com"


def arn_parts(arn: str) -> tuple[str, str]:
    """(partition, account) of an ARN."""
    parts = arn.split(":")
    return parts[1], parts[4]


def alarm_key_policy(key_arn: str) -> str:
    """The account administers the key (so IAM policies can grant it); CloudWatch may use it to
    publish alarm notifications to the encrypted topic. The AWS managed `alias/aws/sns` key
    cannot be given to CloudWatch, so alarms published to a topic under it are dropped."""
    partition, account = arn_parts(key_arn)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchAlarmsEncrypt",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDWATCH},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    # As AWS documents it, without source conditions: those are checked on the
                    # topic policy, where CloudWatch sets them.
                    "Resource": "*",
                },
            ],
        }
    )


def alarm_topic_policy(topic_arn: str) -> str:
    """CloudWatch alarms of this account may publish; the account keeps managing the topic."""
    partition, account = arn_parts(topic_arn)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountManages",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": [
                        "sns:GetTopicAttributes",
                        "sns:SetTopicAttributes",
                        "sns:Subscribe",
                        "sns:ListSubscriptionsByTopic",
                        "sns:Publish",
                    ],
                    "Resource": topic_arn,
                },
                {
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDWATCH},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {
                        "ArnLike": {
                            "aws:SourceArn": f"arn:{partition}:cloudwatch:*:{account}:alarm:*"
                        }
                    },
                },
            ],
        }
    )


class AwsObservability(Observability):
    log_group: aws.cloudwatch.LogGroup
    key: aws.kms.Key
    key_policy: aws.kms.KeyPolicy
    topic: aws.sns.Topic
    topic_policy: aws.sns.TopicPolicy
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:observability:AwsObservability", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)

        # The name compute already ships container logs to (see components/aws/logs.py). A fixed
        # name cannot coexist with its replacement, so a replacement deletes first.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=stage_log_group_name(),
            retention_in_days=args.spec.log_retention_days,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )

        # A customer-managed key: its policy, unlike the AWS managed SNS key's, can let
        # CloudWatch encrypt what it publishes. The key is created with the default policy
        # (the account administers it) and then given the full policy, whose account comes
        # from the key's own ARN: no lookup call, so a plan stays offline.
        self.key = aws.kms.Key(
            f"{name}-alarms-key",
            description="stageline alarm notifications",
            enable_key_rotation=True,
            tags=tags,
            opts=mine,
        )
        self.key_policy = aws.kms.KeyPolicy(
            f"{name}-alarms-key-policy",
            key_id=self.key.key_id,
            policy=self.key.arn.apply(alarm_key_policy),
            opts=pulumi.ResourceOptions(parent=self.key),
        )
        self.topic = aws.sns.Topic(
            f"{name}-alarms", kms_master_key_id=self.key.arn, tags=tags, opts=mine
        )
        self.topic_policy = aws.sns.TopicPolicy(
            f"{name}-alarms-policy",
            arn=self.topic.arn,
            policy=self.topic.arn.apply(alarm_topic_policy),
            opts=pulumi.ResourceOptions(parent=self.topic),
        )
        # An alarm that fires right away must find CloudWatch already allowed to publish.
        alarm_opts = pulumi.ResourceOptions(
            parent=self.topic, depends_on=[self.key_policy, self.topic_policy]
        )

        self.alarms = [
            aws.cloudwatch.MetricAlarm(
                f"{name}-{watched.suffix}",
                namespace=NAMESPACES[watched.subject],
                metric_name=watched.metric,
                dimensions={DIMENSIONS[watched.subject]: watched_id(args, watched.subject)},
                comparison_operator="LessThanThreshold"
                if watched.below
                else "GreaterThanThreshold",
                threshold=watched.threshold,
                statistic="Average",
                period=300,
                evaluation_periods=2,
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                tags=tags,
                opts=alarm_opts,
            )
            for watched in watched_metrics(args.spec.alarms, args.spec.cpu_alarm_percent, METRICS)
        ]

        self._publish(self.log_group.name, self.alarms)
