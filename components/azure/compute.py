"""A zone-spread VM scale set running the release artifact in the private tier, with autoscale."""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_azure_native import compute, monitor, network, resources

from components.azure.sizes import VM_SIZES
from components.compute import Compute, ComputeArgs

# Canonical's image; `latest` lets each new instance start from a patched build.
IMAGE = {
    "publisher": "Canonical",
    "offer": "ubuntu-24_04-lts",
    "sku": "server",
    "version": "latest",
}
ADMIN_USER = "stageline"


@dataclass(frozen=True)
class AzureComputeArgs(ComputeArgs):
    sku: str | None = None
    """Azure VM size in place of the size class, e.g. Standard_D4as_v5. Default: from `size`."""


def custom_data(artifact: str, app_port: int) -> str:
    """cloud-init script that runs the release's container image; base64 as Azure expects."""
    script = "\n".join(
        [
            "#!/bin/bash",
            "set -euo pipefail",
            "apt-get update && apt-get install -y docker.io",
            "systemctl enable --now docker",
            f"docker run -d --restart=always -p {app_port}:{app_port} "
            f"-e PORT={app_port} {shlex.quote(artifact)}",
        ]
    )
    return base64.b64encode(script.encode()).decode()


def scale_zones(subnet_ids: list[str]) -> list[str]:
    """Azure numbers a region's zones 1..3, and the network makes one private subnet per zone
    in that order, so the private tier's size says which zones the stage spans."""
    return [str(i + 1) for i in range(len(subnet_ids))]


def _cpu_rule(resource_uri: pulumi.Input[str], operator: str, threshold: int, direction: str):
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
    scale_set: compute.VirtualMachineScaleSet
    autoscale: monitor.AutoscaleSetting

    def __init__(
        self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:compute:AzureCompute", name, None, opts)
        tags = dict(args.tags or {})
        mine = pulumi.ResourceOptions(parent=self)
        vm_size = args.sku or VM_SIZES[args.size]

        self.resource_group = resources.ResourceGroup(f"{name}-rg", tags=tags, opts=mine)
        rg = self.resource_group.name

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
                    "destination_port_range": str(args.app_port),
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

        self.scale_set = compute.VirtualMachineScaleSet(
            f"{name}-vmss",
            resource_group_name=rg,
            sku={"name": vm_size, "tier": "Standard", "capacity": args.min_count},
            zones=subnet_ids.apply(scale_zones),
            orchestration_mode="Uniform",
            overprovision=False,
            # A new release changes custom_data; the rolling policy replaces instances in
            # batches, gated by the application health extension below.
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
            identity={"type": "SystemAssigned"},
            virtual_machine_profile={
                "os_profile": {
                    "computer_name_prefix": "app",
                    "admin_username": ADMIN_USER,
                    "admin_password": pulumi.Output.secret(admin_password.result),
                    "custom_data": custom_data(args.artifact, args.app_port),
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
                            "settings": {"protocol": "tcp", "port": args.app_port},
                        }
                    ]
                },
            },
            tags=tags,
            opts=mine,
        )

        self.autoscale = monitor.AutoscaleSetting(
            f"{name}-autoscale",
            resource_group_name=rg,
            target_resource_uri=self.scale_set.id,
            enabled=True,
            profiles=[
                {
                    "name": "default",
                    "capacity": {
                        "minimum": str(args.min_count),
                        "maximum": str(args.max_count),
                        "default": str(args.min_count),
                    },
                    "rules": [
                        _cpu_rule(self.scale_set.id, "GreaterThan", 70, "Increase"),
                        _cpu_rule(self.scale_set.id, "LessThan", 30, "Decrease"),
                    ],
                }
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self.scale_set),
        )

        # Azure Monitor addresses a scale set by its resource ID: the alert dimension.
        self.group_name = self.scale_set.id
        self._register()
