"""An instance template and a regional managed instance group running the release artifact in
the private tier, with an autoscaler, a dedicated service account and the application's
database password in Secret Manager."""

from __future__ import annotations

import hashlib
import re

import pulumi
from pulumi_gcp import compute, projects, secretmanager, serviceaccount, storage

from components.compute import AppConnection, Compute, ComputeArgs, app_environment_of
from components.gcp.boot import startup_script
from components.gcp.machines import boot_disk_type, boot_image
from components.gcp.naming import APP_TAG, labels
from components.gcp.sizes import MACHINE_TYPES

# The service account's roles decide what the instances may do; the scope only lets its token
# reach every API (Google's advice for service accounts with IAM roles). Secret Manager and
# Cloud Storage refuse a token scoped to logging and monitoring alone.
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
# What the instances write besides the app's own data: container logs (gcplogs) and metrics.
PROJECT_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")
SECRET_ROLE = "roles/secretmanager.secretAccessor"
BUCKET_ROLE = "roles/storage.objectAdmin"
# A regional group surges zone by zone: GCP wants 0 or at least the number of zones it spans,
# which is every zone of the region (up to 4, e.g. us-central1).
MAX_SURGE = 4
BOOT_DISK_GB = 20
APP_PORT_NAME = "app"
_ACCOUNT_ID_MAX = 30


def service_account_id(name: str) -> str:
    """A service account id (6-30 characters, RFC 1035) derived from the component name.

    Names start with the stack name, which may be longer than 30; a digest of the whole name
    keeps two stages that share a long prefix apart.
    """
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    stem = re.sub(r"[^a-z0-9-]", "-", name.lower())[: _ACCOUNT_ID_MAX - len(digest) - 1]
    stem = stem.rstrip("-")
    if not stem[:1].isalpha():
        stem = f"sl-{stem}"[: _ACCOUNT_ID_MAX - len(digest) - 1].rstrip("-")
    return f"{stem}-{digest}"


class GcpCompute(Compute):
    firewall: compute.Firewall
    account: serviceaccount.Account
    secret: secretmanager.Secret | None
    secret_version: secretmanager.SecretVersion | None
    template: compute.InstanceTemplate
    group: compute.RegionInstanceGroupManager
    autoscaler: compute.RegionAutoscaler

    def __init__(
        self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stageline:compute:GcpCompute", name, None, opts)
        mine = pulumi.ResourceOptions(parent=self)
        machine_type = args.spec.sku or MACHINE_TYPES[args.spec.size]
        subnet_ids = pulumi.Output.from_input(args.subnet_ids)

        # Only the stage network reaches the app port. GCP denies other ingress by default, and
        # no rule admits SSH.
        self.firewall = compute.Firewall(
            f"{name}-app",
            network=args.network_id,
            direction="INGRESS",
            source_ranges=[args.ingress_cidr],
            allows=[{"protocol": "tcp", "ports": [str(args.spec.app_port)]}],
            target_tags=[APP_TAG],
            opts=mine,
        )

        # The instances' own identity: the default compute account has Editor on the project.
        self.account = serviceaccount.Account(
            f"{name}-sa",
            account_id=service_account_id(name),
            display_name=f"stageline {name} instances",
            opts=mine,
        )
        member = pulumi.Output.concat("serviceAccount:", self.account.email)
        account_child = pulumi.ResourceOptions(parent=self.account)
        grants: list[pulumi.Resource] = [
            projects.IAMMember(
                f"{name}-{role.rsplit('.', 1)[-1].lower()}",
                project=self.account.project,
                role=role,
                member=member,
                opts=account_child,
            )
            for role in PROJECT_ROLES
        ]

        self.secret = self.secret_version = None
        secret_version_name: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        environment = app_environment_of(args)
        if args.app is not None:
            grants += self._wire_app(name, args.app, member, labels(args.tags))
            assert self.secret_version is not None
            secret_version_name = self.secret_version.name

        script = pulumi.Output.all(environment, secret_version_name).apply(
            lambda values: startup_script(args.artifact, args.spec.app_port, values[0], values[1])
        )
        self.template = compute.InstanceTemplate(
            f"{name}-template",
            machine_type=machine_type,
            disks=[
                {
                    "source_image": boot_image(machine_type),
                    "boot": True,
                    "auto_delete": True,
                    "disk_size_gb": BOOT_DISK_GB,
                    # The newest series (n4, c4, …) attach Hyperdisk only.
                    "disk_type": boot_disk_type(machine_type),
                }
            ],
            # No access config: no external IP; egress goes through Cloud NAT.
            network_interfaces=[{"subnetwork": subnet_ids.apply(lambda ids: ids[0])}],
            # Project-wide SSH keys would let whoever holds one into every instance.
            metadata={"block-project-ssh-keys": "TRUE", "google-logging-enabled": "true"},
            metadata_startup_script=script,
            service_account={"email": self.account.email, "scopes": SCOPES},
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
            # The load balancer's backend service sends traffic to this named port.
            named_ports=[{"name": APP_PORT_NAME, "port": args.spec.app_port}],
            # First boot pulls the release through Cloud NAT and reads the password with the
            # account's grants: the instances are created once both exist.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.egress, *grants]),
        )
        self.autoscaler = compute.RegionAutoscaler(
            f"{name}-autoscaler",
            target=self.group.id,
            autoscaling_policy={
                "min_replicas": args.spec.min_count,
                "max_replicas": args.spec.max_count,
                "cooldown_period": 120,
                "cpu_utilization": {"target": args.spec.target_cpu_percent / 100},
            },
            opts=pulumi.ResourceOptions(parent=self.group),
        )

        self._publish(self.group.base_instance_name)

    def _wire_app(
        self, name: str, app: AppConnection, member: pulumi.Output[str], tags: dict[str, str]
    ) -> list[pulumi.Resource]:
        """The password in Secret Manager, and the account's grants on it and on the bucket."""
        self.secret = secretmanager.Secret(
            f"{name}-db-password",
            secret_id=f"{name}-db-password",
            replication={"auto": {}},
            labels=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        secret_child = pulumi.ResourceOptions(parent=self.secret)
        self.secret_version = secretmanager.SecretVersion(
            f"{name}-db-password-version",
            secret=self.secret.id,
            secret_data=pulumi.Output.secret(app.database_password),
            opts=secret_child,
        )
        return [
            # Only this secret, not every secret in the project.
            secretmanager.SecretIamMember(
                f"{name}-secret-access",
                secret_id=self.secret.id,
                role=SECRET_ROLE,
                member=member,
                opts=secret_child,
            ),
            # Only the stage's own bucket.
            storage.BucketIAMMember(
                f"{name}-bucket-access",
                bucket=app.bucket_name,
                role=BUCKET_ROLE,
                member=member,
                opts=pulumi.ResourceOptions(parent=self.account),
            ),
            self.secret_version,
        ]
