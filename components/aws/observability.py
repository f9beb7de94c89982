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

        alarms: list[aws.cloudwatch.MetricAlarm] = []
        if args.alarms:
            common = {
                "statistic": "Average",
                "period": 300,
                "evaluation_periods": 2,
                "alarm_actions": [self.topic.arn],
                "ok_actions": [self.topic.arn],
                "tags": tags,
                "opts": pulumi.ResourceOptions(parent=self.topic),
            }
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-compute-cpu",
                    namespace="AWS/EC2",
                    metric_name="CPUUtilization",
                    dimensions={"AutoScalingGroupName": args.compute_group},
                    comparison_operator="GreaterThanThreshold",
                    threshold=args.cpu_alarm_percent,
                    **common,
                )
            )
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-database-cpu",
                    namespace="AWS/RDS",
                    metric_name="CPUUtilization",
                    dimensions={"DBInstanceIdentifier": args.database_identifier},
                    comparison_operator="GreaterThanThreshold",
                    threshold=args.cpu_alarm_percent,
                    **common,
                )
            )
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-database-storage",
                    namespace="AWS/RDS",
                    metric_name="FreeStorageSpace",
                    dimensions={"DBInstanceIdentifier": args.database_identifier},
                    comparison_operator="LessThanThreshold",
                    threshold=FREE_STORAGE_ALARM_BYTES,
                    **common,
                )
            )

        self.log_group_name = self.log_group.name
        self.alarm_count = len(alarms)
        self._register()
