"""An instance template and a regional managed instance group running the release artifact in
the private tier, with an autoscaler."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute

from components.compute import Compute, ComputeArgs
from components.gcp.naming import APP_TAG, labels
from components.gcp.sizes import MACHINE_TYPES

# Container-Optimized OS: docker preinstalled, read-only root, patched by the image family.
IMAGE = "projects/cos-cloud/global/images/family/cos-stable"
# Only what the instances need: shipping logs and metrics.
SCOPES = [
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring.write",
]
# A regional group surges zone by zone: GCP wants 0 or at least its zone count (3 by default).
MAX_SURGE = 3


@dataclass(frozen=True)
class GcpComputeArgs(ComputeArgs):
    sku: str | None = None
    """GCE machine type in place of the size class, e.g. n2d-standard-4. Default: from `size`."""


def startup_script(artifact: str, app_port: int) -> str:
    """Runs the release's container image; its output goes to Cloud Logging."""
    return "\n".join(
        [
            "#!/bin/bash",
            "set -euo pipefail",
            # The script runs on every boot; the container from the last one already restarts.
            "docker rm -f app 2>/dev/null || true",
            f"docker run -d --name app --restart=always --log-driver=gcplogs "
            f"-p {app_port}:{app_port} "
            f"-e PORT={app_port} {shlex.quote(artifact)}",
        ]
    )


class GcpCompute(Compute):
    firewall: compute.Firewall
    template: compute.InstanceTemplate
    group: compute.RegionInstanceGroupManager
    autoscaler: compute.RegionAutoscaler

    def __init__(
        self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:compute:GcpCompute", name, None, opts)
        mine = pulumi.ResourceOptions(parent=self)
        machine_type = args.sku or MACHINE_TYPES[args.size]
        subnet_ids = pulumi.Output.from_input(args.subnet_ids)

        # Only the stage network reaches the app port. GCP denies other ingress by default, and
        # no rule admits SSH.
        self.firewall = compute.Firewall(
            f"{name}-app",
            network=args.network_id,
            direction="INGRESS",
            source_ranges=[args.ingress_cidr],
            allows=[{"protocol": "tcp", "ports": [str(args.app_port)]}],
            target_tags=[APP_TAG],
            opts=mine,
        )
        self.template = compute.InstanceTemplate(
            f"{name}-template",
            machine_type=machine_type,
            disks=[
                {
                    "source_image": IMAGE,
                    "boot": True,
                    "auto_delete": True,
                    "disk_size_gb": 20,
                    "disk_type": "pd-balanced",
                }
            ],
            # No access config: no external IP; egress goes through Cloud NAT.
            network_interfaces=[{"subnetwork": subnet_ids.apply(lambda ids: ids[0])}],
            # Project-wide SSH keys would let whoever holds one into every instance.
            metadata={"block-project-ssh-keys": "TRUE", "google-logging-enabled": "true"},
            metadata_startup_script=startup_script(args.artifact, args.app_port),
            service_account={"scopes": SCOPES},
            shielded_instance_config={
                "enable_secure_boot": True,
                "enable_vtpm": True,
                "enable_integrity_monitoring": True,
            },
            tags=[APP_TAG],
            labels=labels(args.tags),
            opts=mine,
        )
        self.group = compute.RegionInstanceGroupManager(
            f"{name}-group",
            # Instance names are this plus "-" and 4 characters; monitoring and the log sink
            # select the group's instances by it.
            base_instance_name=name,
            versions=[{"name": "release", "instance_template": self.template.self_link_unique}],
            # A new release is a new template; instances are replaced a zone-wide batch at a time.
            update_policy={
                "type": "PROACTIVE",
                "minimal_action": "REPLACE",
                "max_surge_fixed": MAX_SURGE,
                "max_unavailable_fixed": 0,
            },
            wait_for_instances=False,
            opts=mine,
        )
        self.autoscaler = compute.RegionAutoscaler(
            f"{name}-autoscaler",
            target=self.group.id,
            autoscaling_policy={
                "min_replicas": args.min_count,
                "max_replicas": args.max_count,
                "cooldown_period": 120,
                "cpu_utilization": {"target": 0.6},
            },
            opts=pulumi.ResourceOptions(parent=self.group),
        )

        self.group_name = self.group.base_instance_name
        self._register()
