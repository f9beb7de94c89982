"""A storage account and blob container: encrypted, no public blob access, TLS 1.2, versioning
and noncurrent-version expiry per the spec.

On a DR stage, blob object replication copies the primary's container into this one. Azure
needs versioning on both accounts and the change feed on the source: every versioned account
here keeps a change feed, so any stage with `storage.versioning: true` can be a primary, and a
DR account is versioned whatever its spec says. The policy is written on the destination (this
account) first, which gives the policy and rule IDs, then on the source account with them; the
DR stage owns both, so destroying it stops the replication and leaves the primary's data.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random
from pulumi_azure_native import resources, storage

from components.azure.naming import STORAGE_ACCOUNT_SUFFIX, storage_account_prefix
from components.azure.resource_ids import STORAGE_ACCOUNT, container_of, parse
from components.dr import ReplicaPlan
from components.storage import Storage, StorageArgs

CONTAINER = "data"
"""Container names are scoped to their account, so a fixed name cannot collide."""
SOFT_DELETE_DAYS = 7
CHANGE_FEED_DAYS = 7
"""How long the change feed is kept; object replication reads only its recent entries."""


class AzureStorage(Storage):
    resource_group: resources.ResourceGroup
    account: storage.StorageAccount
    service: storage.BlobServiceProperties
    container: storage.BlobContainer
    lifecycle: storage.ManagementPolicy
    replication: storage.ObjectReplicationPolicy | None
    """On a DR stage: the policy on this (the destination) account."""
    source_replication: storage.ObjectReplicationPolicy | None
    """On a DR stage: the same policy on the primary's account."""

    def __init__(
        self,
        name: str,
        args: StorageArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        account_name: str | None = None,
    ) -> None:
        """`account_name` is `stageline:azure.storageAccountName` (3-24 lowercase letters and
        digits, validated). Default: derived from the component name plus a random suffix,
        since account names are global."""
        super().__init__("stageline:storage:AzureStorage", name, None, opts)
        tags = dict(args.tags or {})
        # Deleting a resource group deletes what is in it: it shares the account's protection.
        data = pulumi.ResourceOptions(
            parent=self, protect=args.protect, retain_on_delete=args.protect
        )

        self.resource_group = resources.ResourceGroup(f"{name}-rg", tags=tags, opts=data)
        rg = self.resource_group.name

        chosen: pulumi.Input[str] | None = account_name
        if chosen is None:
            suffix = random.RandomString(
                f"{name}-account-suffix",
                length=STORAGE_ACCOUNT_SUFFIX,
                special=False,
                upper=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            chosen = pulumi.Output.concat(storage_account_prefix(name), suffix.result)

        self.account = storage.StorageAccount(
            f"{name}-account",
            account_name=chosen,
            resource_group_name=rg,
            kind="StorageV2",
            sku={"name": "Standard_ZRS"},
            access_tier="Hot",
            allow_blob_public_access=False,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            encryption={
                "key_source": "Microsoft.Storage",
                "require_infrastructure_encryption": True,
                "services": {
                    "blob": {"enabled": True, "key_type": "Account"},
                    "file": {"enabled": True, "key_type": "Account"},
                },
            },
            tags=tags,
            opts=data,
        )
        child = pulumi.ResourceOptions(parent=self.account)
        account = self.account.name
        versioning = args.spec.versioning or args.replica is not None

        self.service = storage.BlobServiceProperties(
            f"{name}-blob-service",
            resource_group_name=rg,
            account_name=account,
            blob_services_name="default",
            is_versioning_enabled=versioning,
            change_feed=(
                {"enabled": True, "retention_in_days": CHANGE_FEED_DAYS}
                if versioning
                else {"enabled": False}
            ),
            delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS},
            container_delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS},
            opts=child,
        )
        self.container = storage.BlobContainer(
            f"{name}-container",
            resource_group_name=rg,
            account_name=account,
            container_name=CONTAINER,
            public_access="None",
            opts=pulumi.ResourceOptions(
                parent=self.account, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        self.lifecycle = storage.ManagementPolicy(
            f"{name}-lifecycle",
            resource_group_name=rg,
            account_name=account,
            management_policy_name="default",
            policy={
                "rules": [
                    {
                        "name": "expire-noncurrent",
                        "enabled": True,
                        "type": "Lifecycle",
                        "definition": {
                            "filters": {"blob_types": ["blockBlob"]},
                            "actions": {
                                "version": {
                                    "delete": {
                                        "days_after_creation_greater_than": args.spec.retention_days
                                    }
                                }
                            },
                        },
                    }
                ]
            },
            # The rule acts on the versions the blob service keeps once versioning is on.
            opts=pulumi.ResourceOptions(parent=self.account, depends_on=[self.service]),
        )

        self.replication = self.source_replication = None
        if args.replica is not None:
            self._replicate(name, args.replica, rg)

        self._publish(
            self.account.id,
            # Account and container in one value: the container's URL.
            pulumi.Output.concat(
                self.account.primary_endpoints.apply(lambda e: e.blob), self.container.name
            ),
        )

    def _replicate(self, name: str, replica: ReplicaPlan, rg: pulumi.Output[str]) -> None:
        """Object replication from the primary's container into this stage's."""
        source_id = replica.source.storage_id
        source = parse(source_id, STORAGE_ACCOUNT, "storage.resourceId")
        source_container = container_of(replica.source.bucket)
        self.replication = storage.ObjectReplicationPolicy(
            f"{name}-replication",
            resource_group_name=rg,
            account_name=self.account.name,
            # "default" on the destination: Azure assigns the policy's ID.
            object_replication_policy_id="default",
            source_account=source_id,
            destination_account=self.account.id,
            rules=[{"source_container": source_container, "destination_container": CONTAINER}],
            opts=pulumi.ResourceOptions(
                parent=self.account, depends_on=[self.service, self.container]
            ),
        )
        self.source_replication = storage.ObjectReplicationPolicy(
            f"{name}-replication-source",
            resource_group_name=source.group,
            account_name=source.name,
            object_replication_policy_id=self.replication.policy_id,
            source_account=source_id,
            destination_account=self.account.id,
            # The source side names the rule IDs the destination assigned.
            rules=self.replication.rules.apply(_source_rules),
            opts=pulumi.ResourceOptions(parent=self.replication),
        )


def _source_rules(rules: object) -> list[dict[str, object]]:
    return [
        {
            "rule_id": _field(rule, "rule_id"),
            "source_container": _field(rule, "source_container"),
            "destination_container": _field(rule, "destination_container"),
        }
        for rule in (rules or [])  # type: ignore[attr-defined]
    ]


def _field(rule: object, key: str) -> object:
    """A rule's field, whether the SDK gives an output type or (under mocks) a plain map."""
    if isinstance(rule, dict):
        camel = "".join(w.capitalize() if i else w for i, w in enumerate(key.split("_")))
        return rule.get(key, rule.get(camel))
    return getattr(rule, key, None)
