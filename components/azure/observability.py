"""A Log Analytics workspace fed with the app's logs, an action group for alert notifications,
and metric alerts."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import monitor, operationalinsights, resources

from components.azure.release import LOG_FACILITY, without_release
from components.observability import (
    AlarmMetrics,
    Observability,
    ObservabilityArgs,
    watched_id,
    watched_metrics,
)

DATABASE_STORAGE_ALERT_PERCENT = 90
METRICS = AlarmMetrics(
    compute_cpu="Percentage CPU",
    database_cpu="cpu_percent",
    database_storage="storage_percent",
    storage_threshold=DATABASE_STORAGE_ALERT_PERCENT,
)
RESOURCE_TYPES = {
    "compute": "Microsoft.Compute/virtualMachineScaleSets",
    "database": "Microsoft.DBforPostgreSQL/flexibleServers",
}
SYSLOG_STREAM = "Microsoft-Syslog"
RECEIVERS = (
    "arm_role_receivers",
    "automation_runbook_receivers",
    "azure_app_push_receivers",
    "azure_function_receivers",
    "email_receivers",
    "event_hub_receivers",
    "incident_receivers",
    "itsm_receivers",
    "logic_app_receivers",
    "sms_receivers",
    "voice_receivers",
    "webhook_receivers",
)
"""Every receiver list of an action group: operators own them, stageline never sets them."""


class AzureObservability(Observability):
    resource_group: resources.ResourceGroup
    workspace: operationalinsights.Workspace
    action_group: monitor.ActionGroup
    log_rule: monitor.DataCollectionRule
    log_rule_association: monitor.DataCollectionRuleAssociation
    alarms: list[monitor.MetricAlert]

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
            retention_in_days=args.spec.log_retention_days,
            tags=tags,
            opts=mine,
        )
        # The scale set's monitor agent ships what the app logs to syslog (its container's log
        # driver, under LOG_FACILITY) into the workspace. The rule is created here, after
        # compute, because the workspace is; the agent picks the rule up once associated.
        self.log_rule = monitor.DataCollectionRule(
            f"{name}-app-logs",
            resource_group_name=rg,
            kind="Linux",
            data_sources={
                "syslog": [
                    {
                        "name": "app",
                        "streams": [SYSLOG_STREAM],
                        "facility_names": [LOG_FACILITY],
                        "log_levels": ["*"],
                    }
                ]
            },
            destinations={
                "log_analytics": [{"name": "workspace", "workspace_resource_id": self.workspace.id}]
            },
            data_flows=[{"streams": [SYSLOG_STREAM], "destinations": ["workspace"]}],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self.workspace),
        )
        # On Azure the compute group is the scale set's resource ID.
        self.log_rule_association = monitor.DataCollectionRuleAssociation(
            f"{name}-app-logs-association",
            resource_uri=args.compute_group,
            data_collection_rule_id=self.log_rule.id,
            description="stageline: the application's logs into the stage's workspace",
            opts=pulumi.ResourceOptions(parent=self.log_rule),
        )

        # Operators attach receivers (email, webhook, PagerDuty) to the group, as they
        # subscribe to the SNS topic on AWS. Updating the group sends its whole body, so the
        # receivers are ignored, and it carries no release tag, so a release leaves it alone.
        self.action_group = monitor.ActionGroup(
            f"{name}-alerts",
            resource_group_name=rg,
            group_short_name="stageline",
            enabled=True,
            location="Global",
            tags=without_release(tags),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=list(RECEIVERS)),
        )

        self.alarms = [
            monitor.MetricAlert(
                f"{name}-{watched.suffix}",
                resource_group_name=rg,
                location="global",
                scopes=[watched_id(args, watched.subject)],
                target_resource_type=RESOURCE_TYPES[watched.subject],
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
                            "name": watched.suffix,
                            "metric_name": watched.metric,
                            "operator": "LessThan" if watched.below else "GreaterThan",
                            "threshold": watched.threshold,
                            "time_aggregation": "Average",
                        }
                    ],
                },
                actions=[{"action_group_id": self.action_group.id}],
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self.action_group),
            )
            for watched in watched_metrics(args.spec.alarms, args.spec.cpu_alarm_percent, METRICS)
        ]

        self._publish(self.workspace.name, self.alarms)
