"""A zone-spread VM scale set running the release artifact in the private tier, with autoscale."""

from __future__ import annotations

import pulumi
import pulumi_random as random
from pulumi_azure_native import (
    authorization,
    compute,
    keyvault,
    managedidentity,
    monitor,
    network,
    resources,
)

from components.accounts import LOGIN_USER
from components.azure.frontend import Frontend, app_rules, build_frontend
from components.azure.naming import storage_account_prefix
from components.azure.release import SecretSource, encoded, release_script, without_release
from components.azure.sizes import VM_SIZES
from components.compute import (
    AppConnection,
    Compute,
    ComputeArgs,
    app_environment_of,
)

# Canonical's image; `latest` lets each new instance start from a patched build.
IMAGE = {
    "publisher": "Canonical",
    "offer": "ubuntu-24_04-lts",
    "sku": "server",
    "version": "latest",
}
RELEASE_EXTENSION = "release"
PASSWORD_SECRET = "database-password"
VAULT_SUFFIX = 6
VAULT_RETENTION_DAYS = 7
"""Key Vault's shortest soft-delete retention."""
ROLE_DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions"
# Built-in role IDs, the same in every tenant.
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def scale_in_percent(target_cpu_percent: int) -> float:
    """CPU below which the group scales in.

    Removing one of n instances raises the others' average by n/(n-1), at most twice (n=2).
    Scaling in only below half the target keeps the load after a scale-in under the target, so
    the scale-out rule does not fire straight back (flapping, which Azure's own check would
    otherwise resolve by refusing the scale-in).
    """
    return target_cpu_percent / 2


def scale_zones(subnet_ids: list[str]) -> list[str]:
    """Azure numbers a region's zones 1..3, and the network makes one private subnet per zone
    in that order, so the private tier's size says which zones the stage spans."""
    return [str(i + 1) for i in range(len(subnet_ids))]


def _cpu_rule(
    resource_uri: pulumi.Input[str], operator: str, threshold: float, direction: str
) -> dict:
    return {
        "metric_trigger": {
            "metric_name": "Percentage CPU",
            "metric_resource_uri": resource_uri,
            "operator": operator,
            "statistic": "Average",
            "threshold": threshold,
            "time_aggregation": "Average",
            "time_grain": "PT1M",
            "time_window": "PT5M",
        },
        "scale_action": {
            "cooldown": "PT5M",
            "direction": direction,
            "type": "ChangeCount",
            "value": "1",
        },
    }


class AzureCompute(Compute):
    resource_group: resources.ResourceGroup
    security_group: network.NetworkSecurityGroup
    identity: managedidentity.UserAssignedIdentity
    vault: keyvault.Vault | None
    secret: keyvault.Secret | None
    grants: list[authorization.RoleAssignment]
    scale_set: compute.VirtualMachineScaleSet
    autoscale: monitor.AutoscaleSetting
    frontend: Frontend | None
    """The load balancer the scale set joins (built here because Azure binds a scale set to
    its backend pool when it is created); the ingress concern publishes it. None without
    `frontend`."""

    def __init__(
        self,
        name: str,
        args: ComputeArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        frontend: bool = False,
    ) -> None:
        """`frontend` builds the load balancer the ingress concern publishes (the kit turns it
        on). Its rules are separate resources the ingress adds client ranges to. Default off:
        the scale set is reachable from the stage network only."""
        super().__init__("stageline:compute:AzureCompute", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)
        vm_size = args.spec.sku or VM_SIZES[args.spec.size]

        self.resource_group = resources.ResourceGroup(f"{name}-rg", tags=tags, opts=mine)
        rg = self.resource_group.name

        client = authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.frontend = None
        if frontend:
            # A load balancer's probes and clients need rules of their own, which the ingress
            # adds to this group: its rules are separate resources rather than inline ones,
            # since Azure drops separate rules whenever inline ones are written. A new name,
            # so a stage that had inline rules gets a fresh group instead of clashing ones.
            self.security_group = network.NetworkSecurityGroup(
                f"{name}-app-nsg", resource_group_name=rg, tags=tags, opts=mine
            )
            app_rules(name, self.security_group, rg, args.ingress_cidr, args.spec.app_port)
            self.frontend = build_frontend(
                name, rg, client.subscription_id, args.spec.app_port, tags, mine
            )
        else:
            # Only the stage network reaches the app port; everything else inbound is refused,
            # SSH included (operators use Run Command or Bastion).
            self.security_group = network.NetworkSecurityGroup(
                f"{name}-nsg",
                resource_group_name=rg,
                security_rules=[
                    {
                        "name": "app-from-stage-network",
                        "priority": 100,
                        "direction": "Inbound",
                        "access": "Allow",
                        "protocol": "Tcp",
                        "source_address_prefix": args.ingress_cidr,
                        "source_port_range": "*",
                        "destination_address_prefix": "*",
                        "destination_port_range": str(args.spec.app_port),
                    },
                    {
                        "name": "deny-other-inbound",
                        "priority": 4096,
                        "direction": "Inbound",
                        "access": "Deny",
                        "protocol": "*",
                        "source_address_prefix": "*",
                        "source_port_range": "*",
                        "destination_address_prefix": "*",
                        "destination_port_range": "*",
                    },
                ],
                tags=tags,
                opts=mine,
            )

        # A user-assigned identity exists before the scale set, so its grants can be in place
        # before the first instance boots and asks Key Vault for the password.
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity", resource_group_name=rg, tags=tags, opts=mine
        )
        self.vault, self.secret, self.grants = None, None, []
        secret_url: pulumi.Input[str | None] = None
        environment = app_environment_of(args)
        if args.app is not None:
            secret_url = self._secret_store(name, args.app, rg, client, tags)

        # Azure refuses a Linux VM without a credential. This password is never output and no
        # rule admits SSH, so it opens nothing; it only satisfies the API.
        admin_password = random.RandomPassword(
            f"{name}-admin-password",
            length=32,
            special=True,
            override_special="!#%*-_=+",
            opts=mine,
        )
        subnet_ids = pulumi.Output.from_input(args.subnet_ids)
        script = pulumi.Output.all(environment, secret_url, self.identity.id).apply(
            lambda v: encoded(
                release_script(
                    args.artifact,
                    args.spec.app_port,
                    v[0],
                    SecretSource(secret_url=v[1], identity_id=v[2]) if v[1] else None,
                )
            )
        )

        self.scale_set = compute.VirtualMachineScaleSet(
            f"{name}-vmss",
            resource_group_name=rg,
            # The count at creation; autoscale owns it afterwards (see ignore_changes below).
            sku={"name": vm_size, "tier": "Standard", "capacity": args.spec.min_count},
            zones=subnet_ids.apply(scale_zones),
            orchestration_mode="Uniform",
            overprovision=False,
            # A release changes the app extension's settings, that is the scale set's model:
            # the rolling policy brings running instances to it in batches, each batch gated by
            # the application health extension before the next one starts.
            upgrade_policy={
                "mode": "Rolling",
                "rolling_upgrade_policy": {
                    "max_batch_instance_percent": 50,
                    "max_unhealthy_instance_percent": 50,
                    "max_unhealthy_upgraded_instance_percent": 50,
                    "pause_time_between_batches": "PT0S",
                },
            },
            automatic_repairs_policy={"enabled": True, "grace_period": "PT10M"},
            identity={"type": "UserAssigned", "user_assigned_identities": [self.identity.id]},
            virtual_machine_profile={
                "os_profile": {
                    "computer_name_prefix": "app",
                    "admin_username": LOGIN_USER,
                    "admin_password": pulumi.Output.secret(admin_password.result),
                    "linux_configuration": {"provision_vm_agent": True},
                },
                "storage_profile": {
                    "image_reference": IMAGE,
                    "os_disk": {
                        "create_option": "FromImage",
                        "caching": "ReadWrite",
                        "disk_size_gb": 30,
                        # Managed disks are encrypted at rest with platform keys.
                        "managed_disk": {"storage_account_type": "Premium_LRS"},
                    },
                },
                "network_profile": {
                    "network_interface_configurations": [
                        {
                            "name": "nic",
                            "primary": True,
                            "network_security_group": {"id": self.security_group.id},
                            "ip_configurations": [
                                {
                                    "name": "private",
                                    "primary": True,
                                    # A regional subnet: instances spread over zones inside it.
                                    "subnet": {"id": subnet_ids.apply(lambda ids: ids[0])},
                                    "load_balancer_backend_address_pools": (
                                        [{"id": self.frontend.pool_id}] if self.frontend else None
                                    ),
                                }
                            ],
                        }
                    ]
                },
                "extension_profile": {
                    "extensions": [
                        {
                            "name": "health",
                            "publisher": "Microsoft.ManagedServices",
                            "type": "ApplicationHealthLinux",
                            "type_handler_version": "2.0",
                            "auto_upgrade_minor_version": True,
                            "settings": {"protocol": "tcp", "port": args.spec.app_port},
                        },
                        {
                            # Reruns on every instance whenever its settings (the release)
                            # change, and on each new or reimaged instance.
                            "name": RELEASE_EXTENSION,
                            "publisher": "Microsoft.Azure.Extensions",
                            "type": "CustomScript",
                            "type_handler_version": "2.1",
                            "auto_upgrade_minor_version": True,
                            "settings": {"script": script},
                        },
                        {
                            # Ships the app's syslog to the workspace once observability
                            # associates its data collection rule with this scale set.
                            "name": "monitor-agent",
                            "publisher": "Microsoft.Azure.Monitor",
                            "type": "AzureMonitorLinuxAgent",
                            "type_handler_version": "1.0",
                            "auto_upgrade_minor_version": True,
                            "enable_automatic_upgrade": True,
                            "settings": {
                                "authentication": {
                                    "managedIdentity": {
                                        "identifier-name": "mi_res_id",
                                        "identifier-value": self.identity.id,
                                    }
                                }
                            },
                        },
                    ]
                },
            },
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                # Instances need the NAT to pull the image and their grants to read the
                # password at first boot.
                depends_on=[*args.egress, *self.grants],
                # Autoscale changes the capacity; a later update must not put minCount back.
                ignore_changes=["sku.capacity"],
            ),
        )

        low = scale_in_percent(args.spec.target_cpu_percent)
        self.autoscale = monitor.AutoscaleSetting(
            f"{name}-autoscale",
            resource_group_name=rg,
            target_resource_uri=self.scale_set.id,
            enabled=True,
            profiles=[
                {
                    "name": "default",
                    "capacity": {
                        "minimum": str(args.spec.min_count),
                        "maximum": str(args.spec.max_count),
                        "default": str(args.spec.min_count),
                    },
                    "rules": [
                        _cpu_rule(
                            self.scale_set.id,
                            "GreaterThan",
                            args.spec.target_cpu_percent,
                            "Increase",
                        ),
                        _cpu_rule(self.scale_set.id, "LessThan", low, "Decrease"),
                    ],
                }
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self.scale_set),
        )

        # Azure Monitor addresses a scale set by its resource ID: the alert dimension.
        self._publish(self.scale_set.id)

    def _secret_store(
        self,
        name: str,
        app: AppConnection,
        rg: pulumi.Output[str],
        client: pulumi.Output[authorization.GetClientConfigResult],
        tags: dict[str, str],
    ) -> pulumi.Output[str]:
        """Key Vault holding the database password, and the identity's least-privilege grants.
        Returns the secret's URL without a version."""
        mine = pulumi.ResourceOptions(parent=self)
        suffix = random.RandomString(
            f"{name}-vault-suffix", length=VAULT_SUFFIX, special=False, upper=False, opts=mine
        )
        # Vault names are global: 3-24 letters, digits and hyphens, starting with a letter.
        vault_name = pulumi.Output.concat(
            storage_account_prefix(name)[: 24 - VAULT_SUFFIX], suffix.result
        )
        self.vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=vault_name,
            resource_group_name=rg,
            properties={
                "tenant_id": client.tenant_id,
                "sku": {"family": "A", "name": "standard"},
                # Data access by role assignment only; access policies are ignored.
                "enable_rbac_authorization": True,
                "enable_soft_delete": True,
                "soft_delete_retention_in_days": VAULT_RETENTION_DAYS,
                # A deleted secret cannot be purged before its retention ends. The name is
                # random per vault, so a destroyed stage's soft-deleted vault blocks nothing.
                "enable_purge_protection": True,
                "enabled_for_deployment": False,
                "enabled_for_disk_encryption": False,
                "enabled_for_template_deployment": False,
            },
            tags=tags,
            opts=mine,
        )
        self.secret = keyvault.Secret(
            f"{name}-database-password",
            resource_group_name=rg,
            vault_name=vault_name,
            secret_name=PASSWORD_SECRET,
            properties={"value": pulumi.Output.secret(app.database_password)},
            # Every update of the secret resource writes a new version: a release must not.
            tags=without_release(tags),
            opts=pulumi.ResourceOptions(parent=self.vault),
        )
        principal = self.identity.principal_id
        container_scope = pulumi.Output.all(app.bucket_id, app.bucket_name).apply(
            lambda v: container_resource_id(v[0], v[1])
        )
        self.grants = [
            authorization.RoleAssignment(
                f"{name}-{label}",
                principal_id=principal,
                # Skips the directory lookup a brand-new identity may not pass yet.
                principal_type="ServicePrincipal",
                role_definition_id=client.subscription_id.apply(
                    lambda sub, role=role: f"/subscriptions/{sub}{ROLE_DEFINITIONS}/{role}"
                ),
                scope=scope,
                opts=pulumi.ResourceOptions(parent=self.identity),
            )
            for label, role, scope in (
                ("secrets-user", KEY_VAULT_SECRETS_USER, self.vault.id),
                ("blob-contributor", STORAGE_BLOB_DATA_CONTRIBUTOR, container_scope),
            )
        ]
        # The vault URI is https://<name>.vault.azure.net/ in Azure's public cloud.
        return vault_name.apply(lambda v: f"https://{v}.vault.azure.net/secrets/{PASSWORD_SECRET}")


def container_resource_id(account_id: str, container_url: str) -> str:
    """A container's resource ID (a role assignment scope) from its account's ID and its URL."""
    container = container_url.rstrip("/").rsplit("/", 1)[-1]
    return f"{account_id}/blobServices/default/containers/{container}"
