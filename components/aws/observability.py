"""CloudWatch log group, an encrypted SNS topic for alarm actions, and the alarms."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.observability import Observability, ObservabilityArgs

FREE_STORAGE_ALARM_BYTES = 2 * 1024**3


class AwsObservability(Observability):
    log_group: aws.cloudwatch.LogGroup
    topic: aws.sns.Topic

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:observability:AwsObservability", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=args.log_retention_days, tags=tags, opts=mine
        )
        self.topic = aws.sns.Topic(
            f"{name}-alarms", kms_master_key_id="alias/aws/sns", tags=tags, opts=mine
        )

        # (suffix, namespace, metric, dimensions, comparison, threshold)
        watched = [
            (
                "compute-cpu",
                "AWS/EC2",
                "CPUUtilization",
                {"AutoScalingGroupName": args.compute_group},
                "GreaterThanThreshold",
                args.cpu_alarm_percent,
            ),
            (
                "database-cpu",
                "AWS/RDS",
                "CPUUtilization",
                {"DBInstanceIdentifier": args.database_identifier},
                "GreaterThanThreshold",
                args.cpu_alarm_percent,
            ),
            (
                "database-storage",
                "AWS/RDS",
                "FreeStorageSpace",
                {"DBInstanceIdentifier": args.database_identifier},
                "LessThanThreshold",
                FREE_STORAGE_ALARM_BYTES,
            ),
        ]
        alarms = [
            aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}",
                namespace=namespace,
                metric_name=metric,
                dimensions=dimensions,
                comparison_operator=comparison,
                threshold=threshold,
                statistic="Average",
                period=300,
                evaluation_periods=2,
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self.topic),
            )
            for suffix, namespace, metric, dimensions, comparison, threshold in watched
            if args.alarms
        ]

        self.log_group_name = self.log_group.name
        self.alarm_count = len(alarms)
        self._register()
