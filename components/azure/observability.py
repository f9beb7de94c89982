"""A Log Analytics workspace, an action group for alert notifications, and metric alerts."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import monitor, operationalinsights, resources

from components.observability import Observability, ObservabilityArgs

DATABASE_STORAGE_ALERT_PERCENT = 90


class AzureObservability(Observability):
    resource_group: resources.ResourceGroup
    workspace: operationalinsights.Workspace
    action_group: monitor.ActionGroup

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:observability:AzureObservability", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)

        self.resource_group = resources.ResourceGroup(f"{name}-rg", tags=tags, opts=mine)
        rg = self.resource_group.name
        self.workspace = operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=rg,
            sku={"name": "PerGB2018"},
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=mine,
        )
        # Operators attach receivers (email, webhook, PagerDuty) to the group, as they
        # subscribe to the SNS topic on AWS.
        self.action_group = monitor.ActionGroup(
            f"{name}-alerts",
            resource_group_name=rg,
            group_short_name="stageline",
            enabled=True,
            location="Global",
            tags=tags,
            opts=mine,
        )

        # (suffix, scope, resource type, metric, operator, threshold)
        watched = [
            (
                "compute-cpu",
                args.compute_group,
                "Microsoft.Compute/virtualMachineScaleSets",
                "Percentage CPU",
                "GreaterThan",
                args.cpu_alarm_percent,
            ),
            (
                "database-cpu",
                args.database_identifier,
                "Microsoft.DBforPostgreSQL/flexibleServers",
                "cpu_percent",
                "GreaterThan",
                args.cpu_alarm_percent,
            ),
            (
                "database-storage",
                args.database_identifier,
                "Microsoft.DBforPostgreSQL/flexibleServers",
                "storage_percent",
                "GreaterThan",
                DATABASE_STORAGE_ALERT_PERCENT,
            ),
        ]
        alerts = [
            monitor.MetricAlert(
                f"{name}-{suffix}",
                resource_group_name=rg,
                location="global",
                scopes=[scope],
                target_resource_type=resource_type,
                severity=2,
                enabled=True,
                auto_mitigate=True,
                evaluation_frequency="PT5M",
                window_size="PT10M",
                criteria={
                    "odata_type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                    "all_of": [
                        {
                            "criterion_type": "StaticThresholdCriterion",
                            "name": suffix,
                            "metric_name": metric,
                            "operator": operator,
                            "threshold": threshold,
                            "time_aggregation": "Average",
                        }
                    ],
                },
                actions=[{"action_group_id": self.action_group.id}],
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self.action_group),
            )
            for suffix, scope, resource_type, metric, operator, threshold in watched
            if args.alarms
        ]

        self.log_group_name = self.workspace.name
        self.alarm_count = len(alerts)
        self._register()
