"""Compute concern: a group of identical application instances in the private tier."""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.spec import ComputeSpec


@dataclass(frozen=True)
class AppConnection:
    """What the application needs to use its own database and bucket.

    Every target passes the same names to the application's container (see APP_ENV_*), with the
    password fetched at boot from the target's secret store.
    """

    database_host: pulumi.Input[str]
    """Database endpoint (host name or address). Required."""
    database_port: pulumi.Input[int]
    """Database port. Required."""
    database_name: str
    """Database the application uses. Required."""
    database_user: str
    """Role the application connects as. Required."""
    database_password: pulumi.Input[str]
    """The role's password, a Pulumi secret. Required."""
    database_id: pulumi.Input[str]
    """The cloud's id of the database instance, for access grants. Required."""
    bucket_name: pulumi.Input[str]
    """The stage's own bucket (container URL on Azure). Required."""
    bucket_id: pulumi.Input[str]
    """The cloud's id of the bucket (ARN, resource id), for least-privilege grants. Required."""


# The environment variables the application reads on every target.
APP_ENV_PORT = "PORT"
APP_ENV_VERSION = "APP_VERSION"
"""The release's appVersion: what the application reports as its version (GET /healthz)."""
APP_ENV_DATABASE_HOST = "DATABASE_HOST"
APP_ENV_DATABASE_PORT = "DATABASE_PORT"
APP_ENV_DATABASE_NAME = "DATABASE_NAME"
APP_ENV_DATABASE_USER = "DATABASE_USER"
APP_ENV_DATABASE_PASSWORD = "DATABASE_PASSWORD"
APP_ENV_DATABASE_SSLMODE = "PGSSLMODE"
"""libpq's own variable: every target's database refuses clients without TLS."""
APP_ENV_BUCKET = "BUCKET_NAME"
APP_ENV_FILE = "/etc/stageline/app.env"
"""Where boot scripts write the variables (mode 0600) for `docker run --env-file`."""


def app_environment(
    app_port: int, host: str, port: int, name: str, user: str, bucket: str
) -> dict[str, str]:
    """The application's variables except the password, which each target fetches at boot."""
    return {
        APP_ENV_PORT: str(app_port),
        APP_ENV_DATABASE_HOST: host,
        APP_ENV_DATABASE_PORT: str(port),
        APP_ENV_DATABASE_NAME: name,
        APP_ENV_DATABASE_USER: user,
        APP_ENV_DATABASE_SSLMODE: "require",
        APP_ENV_BUCKET: bucket,
    }


def app_environment_of(args: ComputeArgs) -> pulumi.Output[dict[str, str]]:
    """`app_environment` once the connection's values resolve, with the release's version;
    only the port and version when nothing is wired (`app` None)."""
    own = {APP_ENV_PORT: str(args.spec.app_port)}
    if args.app_version:
        own[APP_ENV_VERSION] = args.app_version
    app = args.app
    if app is None:
        return pulumi.Output.from_input(own)
    return pulumi.Output.all(app.database_host, app.database_port, app.bucket_name).apply(
        lambda v: {
            **app_environment(
                args.spec.app_port,
                str(v[0]),
                int(v[1]),
                app.database_name,
                app.database_user,
                str(v[2]),
            ),
            **own,
        }
    )


@dataclass(frozen=True)
class ComputeArgs:
    spec: ComputeSpec
    """The validated `compute` section: size or sku, counts, app port, CPU target. Required."""
    network_id: pulumi.Input[str]
    """Network the group lives in. Required."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets to place instances in. Required."""
    ingress_cidr: str
    """The only range allowed to reach the application port (the stage network). Required."""
    artifact: str
    """Release artifact the instances run: an OCI image, or `file://PATH` where the target
    uploads files (components/release_artifact.py). Required."""
    app_version: str = ""
    """The release's appVersion, given to the application as APP_VERSION. Default none."""
    project_root: str = "."
    """Folder a `file://` artifact's relative path is read from. Default the working folder."""
    app: AppConnection | None = None
    """The database and bucket the application uses. Default none (nothing wired)."""
    egress: Sequence[pulumi.Resource] = ()
    """The network's egress path; instances are created after it (`depends_on`). Default none."""
    tags: Mapping[str, str] | None = None
    """Tags for every taggable child. Default none."""


class Compute(pulumi.ComponentResource, ABC):
    group_name: pulumi.Output[str]
    """Name the monitoring concern uses as the alarm dimension."""

    def _publish(self, group_name: pulumi.Input[str]) -> None:
        """Set and register the group's name; called last by each target."""
        self.group_name = pulumi.Output.from_input(group_name)
        self.register_outputs({"group_name": self.group_name})
