"""A storage account and blob container: encrypted, no public blob access, TLS 1.2, versioning
and noncurrent-version expiry per the spec."""

from __future__ import annotations

import pulumi
import pulumi_random as random
from pulumi_azure_native import resources, storage

from components.azure.naming import STORAGE_ACCOUNT_SUFFIX, storage_account_prefix
from components.storage import Storage, StorageArgs

CONTAINER = "data"
"""Container names are scoped to their account, so a fixed name cannot collide."""
SOFT_DELETE_DAYS = 7


class AzureStorage(Storage):
    resource_group: resources.ResourceGroup
    account: storage.StorageAccount
    service: storage.BlobServiceProperties
    container: storage.BlobContainer
    lifecycle: storage.ManagementPolicy

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

        self.service = storage.BlobServiceProperties(
            f"{name}-blob-service",
            resource_group_name=rg,
            account_name=account,
            blob_services_name="default",
            is_versioning_enabled=args.spec.versioning,
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

        self._publish(
            self.account.id,
            # Account and container in one value: the container's URL.
            pulumi.Output.concat(
                self.account.primary_endpoints.apply(lambda e: e.blob), self.container.name
            ),
        )
