"""Security properties of the libvirt components, asserted on what they register under mocks.

The database password travels only inside secrets (the VMs' cloud-init seeds); the database
seed allows TLS connections with scram-sha-256 from the stage network only; the application's
env file is root-only; data volumes and the object pool follow `protectData`. Each component is
built alone, anew per test, so a mutation tool maps each mutant to every test that builds it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.compute import (
    APP_ENV_DATABASE_PASSWORD,
    APP_ENV_FILE,
    AppConnection,
)
from components.database import POSTGRES_PORT
from components.libvirt.compute import LibvirtCompute
from components.libvirt.database import LibvirtDatabase
from components.libvirt.settings import LibvirtSettings
from components.libvirt.site import LibvirtSite, SiteArgs
from components.libvirt.storage import LibvirtStorage
from stageline.plan.runner import unwrap_secrets
from tests.unit.args import compute_args, database_args, storage_args
from tests.unit.recording import RequestMonitor, record

PASSWORD = "pw-Kx7-only-in-secrets"
# Two ranges, so that a rule written for the first client only shows.
CLIENTS = ("10.40.128.0/18", "10.40.192.0/18")
VERSION = "16"
KEY = "ssh-ed25519 AAAAC3Nza stageline@test"
VOLUME = "pulumi-python:dynamic:Resource"


def build(make: Callable[[LibvirtSite], object]) -> RequestMonitor:
    """What `make` registers on a fresh site, once every registration has finished."""
    monitor = record()

    def program() -> None:
        site = LibvirtSite(
            "s-site",
            SiteArgs(
                stack="s",
                settings=LibvirtSettings(base_image="/nonexistent/base.qcow2", ssh_public_key=KEY),
            ),
        )
        make(site)

    pulumi.runtime.test(program)()
    return monitor


def inputs_of(monitor: RequestMonitor, name: str) -> dict[str, Any]:
    return monitor.mocks.named(name).inputs


def database(site: LibvirtSite, **overrides: Any) -> LibvirtDatabase:
    base: dict[str, Any] = dict(
        engine_version=VERSION,
        size="small",
        storage_gb=20,
        network_id="s-net",
        subnet_ids=["s-net"],
        client_cidrs=CLIENTS,
        password=PASSWORD,
        db_name="shop",
    )
    return LibvirtDatabase("s-db", database_args(**{**base, **overrides}), site=site)


def plain_leaks(value: Any, needle: str, where: str = "") -> list[str]:
    """Paths at which `needle` appears outside any secret."""
    if rpc.is_rpc_secret(value):
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in plain_leaks(v, needle, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in plain_leaks(v, needle, f"{where}[{i}]")]
    return [where] if isinstance(value, str) and needle in value else []


def seed_of(monitor: RequestMonitor, name: str) -> dict[str, Any]:
    """The cloud-config of the VM `name`, from its cidata volume; the text must be secret."""
    cloud_init = inputs_of(monitor, f"{name}-cidata")["cloudInit"]
    urn = monitor.urn_of(f"{name}-cidata")
    assert rpc.is_rpc_secret(cloud_init) or rpc.is_rpc_secret(cloud_init["userData"]), urn
    text = unwrap_secrets(cloud_init)["userData"]
    assert text.startswith("#cloud-config\n"), urn
    return json.loads(text.removeprefix("#cloud-config\n"))


def files_of(config: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {f["path"]: f for f in config["write_files"]}


def test_the_database_password_is_in_no_plain_input_of_any_resource() -> None:
    monitor = build(lambda site: database(site, high_availability=True))
    carriers = [
        r.name for r in monitor.mocks.created if PASSWORD in json.dumps(unwrap_secrets(r.inputs))
    ]
    # Only the two seeds carry it: not the domains (console log, XML), not the data volumes.
    assert sorted(carriers) == ["s-db-0-cidata", "s-db-1-cidata"], carriers
    for resource in monitor.mocks.created:
        leaks = plain_leaks(resource.inputs, PASSWORD)
        assert not leaks, f"{monitor.urn_of(resource.name)}: password in plain input at {leaks}"


def test_a_plain_password_argument_is_made_secret() -> None:
    # The spec may hand a plain string: the component itself must keep it secret.
    monitor = build(lambda site: database(site, password=PASSWORD))
    user_data = inputs_of(monitor, "s-db-0-cidata")["cloudInit"]
    assert rpc.is_rpc_secret(user_data) or rpc.is_rpc_secret(user_data["userData"]), monitor.urn_of(
        "s-db-0-cidata"
    )


def test_the_password_lands_only_in_root_or_postgres_only_files() -> None:
    monitor = build(lambda site: database(site))
    urn = monitor.urn_of("s-db-0-cidata")
    files = files_of(seed_of(monitor, "s-db-0"))
    assert files["/etc/stageline/password"]["content"] == PASSWORD, urn
    assert files["/etc/stageline/password"]["permissions"] == "0600", urn
    assert files["/etc/stageline/password"]["owner"] == "postgres:postgres", urn
    pgpass = files["/etc/stageline/pgpass"]
    assert pgpass["content"] == f"*:*:*:stageline:{PASSWORD}\n", urn
    assert pgpass["permissions"] == "0600", urn
    assert pgpass["owner"] == "postgres:postgres", urn
    assert files["/etc/stageline/db-setup.sh"]["permissions"] == "0700", urn
    holders = sorted(path for path, f in files.items() if PASSWORD in f["content"])
    assert holders == ["/etc/stageline/password", "/etc/stageline/pgpass"], urn


def test_pg_hba_allows_scram_over_tls_from_the_stage_network_only() -> None:
    monitor = build(lambda site: database(site))
    urn = monitor.urn_of("s-db-0-cidata")
    hba = files_of(seed_of(monitor, "s-db-0"))["/etc/stageline/pg_hba.conf"]
    assert hba["content"].splitlines() == [
        "local all postgres peer",
        "local all all peer",
        "hostssl all all 10.40.128.0/18 scram-sha-256",
        "hostssl all all 10.40.192.0/18 scram-sha-256",
        "hostssl replication stageline 10.40.128.0/18 scram-sha-256",
        "hostssl replication stageline 10.40.192.0/18 scram-sha-256",
    ], urn
    assert hba["permissions"] == "0644", urn


def test_postgres_turns_tls_on_and_loads_the_stage_rules() -> None:
    monitor = build(lambda site: database(site))
    urn = monitor.urn_of("s-db-0-cidata")
    config = seed_of(monitor, "s-db-0")
    assert config["runcmd"] == ["/etc/stageline/db-setup.sh"], urn
    files = files_of(config)
    setup = files["/etc/stageline/db-setup.sh"]["content"].splitlines()
    conf = f"/etc/postgresql/{VERSION}/main"
    server = files["/etc/stageline/postgresql.conf"]["content"].splitlines()
    for line in (
        "ssl = on",
        "ssl_min_protocol_version = 'TLSv1.2'",
        "password_encryption = 'scram-sha-256'",
        f"hba_file = '{conf}/pg_hba.conf'",
    ):
        assert line in server, (urn, line)
    assert f"install -m 0644 /etc/stageline/postgresql.conf {conf}/postgresql.conf" in setup, urn
    assert f"install -m 0640 /etc/stageline/pg_hba.conf {conf}/pg_hba.conf" in setup, urn
    # The role's password is read from its file by psql, never written into the script.
    assert "\\set pw `cat /etc/stageline/password`" in setup, urn
    assert "ALTER ROLE stageline PASSWORD :'pw';" in setup, urn
    assert any("CREATE DATABASE shop OWNER stageline" in line for line in setup), urn
    assert setup[1] == "set -Eeuo pipefail", urn


def test_the_standby_authenticates_from_the_pgpass_file() -> None:
    monitor = build(lambda site: database(site, high_availability=True))
    urn = monitor.urn_of("s-db-1-cidata")
    config = seed_of(monitor, "s-db-1")
    assert config["hostname"] == "s-db-1", urn
    files = files_of(config)
    setup = [line.strip() for line in files["/etc/stageline/db-setup.sh"]["content"].splitlines()]
    assert (
        "runuser -u postgres -- env PGPASSFILE=/etc/stageline/pgpass PGSSLMODE=require "
        f"pg_basebackup -h 10.40.128.2 -U stageline -D /var/lib/postgresql/{VERSION}/main "
        "-X stream -S standby_1 --checkpoint=fast"
    ) in setup, urn
    server = files["/etc/stageline/postgresql.conf"]["content"]
    assert (
        "primary_conninfo = 'host=10.40.128.2 port=5432 user=stageline "
        "passfile=/etc/stageline/pgpass sslmode=require application_name=standby_1'"
    ) in server, urn
    assert "primary_slot_name = 'standby_1'" in server, urn
    assert not [line for line in setup if "ALTER ROLE" in line], urn
    primary = files_of(seed_of(monitor, "s-db-0"))["/etc/stageline/db-setup.sh"]["content"]
    assert "pg_basebackup" not in primary, monitor.urn_of("s-db-0-cidata")
    assert "pg_create_physical_replication_slot('standby_1')" in primary


def test_the_seed_allows_no_password_login_over_ssh() -> None:
    monitor = build(lambda site: database(site))
    config = seed_of(monitor, "s-db-0")
    assert config["ssh_pwauth"] is False, monitor.urn_of("s-db-0-cidata")
    assert config["users"][0]["ssh_authorized_keys"] == [KEY], monitor.urn_of("s-db-0-cidata")


def test_the_console_log_and_domain_carry_no_password() -> None:
    monitor = build(lambda site: database(site, high_availability=True))
    for i in (0, 1):
        name = f"s-db-{i}-domain"
        domain = unwrap_secrets(inputs_of(monitor, name))
        assert domain["consoleLog"] == f"/var/log/stageline/s/s-db-{i}.log", monitor.urn_of(name)
        assert PASSWORD not in json.dumps(domain), monitor.urn_of(name)


@pytest.mark.parametrize("protect", [True, False])
def test_data_volumes_follow_protect_data(protect: bool) -> None:
    monitor = build(lambda site: database(site, high_availability=True, protect=protect))
    for i in (0, 1):
        name = f"s-db-{i}-data"
        request = monitor.requests[name]
        assert request.protect is protect, monitor.urn_of(name)
        assert request.retainOnDelete is protect, monitor.urn_of(name)
        assert inputs_of(monitor, name)["capacityGb"] == 20, monitor.urn_of(name)
        # The domain gets this volume as its second disk, after the root overlay.
        disks = inputs_of(monitor, f"s-db-{i}-domain")["disks"]
        assert disks == [f"s-db-{i}-root-path", f"{name}-path"], monitor.urn_of(name)


def test_a_given_password_makes_no_generated_one() -> None:
    given = build(lambda site: database(site))
    assert not given.mocks.of_type("Password"), [r.name for r in given.mocks.created]
    assert not [r for r in given.mocks.created if r.name == "s-db-password"]
    generated = build(lambda site: database(site, password=None))
    assert generated.requests["s-db-password"].parent == generated.urn_of("s-db")


def test_the_component_exposes_the_password_as_a_secret() -> None:
    seen: dict[str, Any] = {}

    def program() -> pulumi.Output[None]:
        site = LibvirtSite(
            "s-site", SiteArgs(stack="s", settings=LibvirtSettings(base_image="/nonexistent"))
        )
        db = database(site)
        assert (db.db_name, db.engine_version) == ("shop", VERSION)

        async def facts() -> None:
            seen["secret"] = await db.password.is_secret()
            seen["values"] = [await o.future() for o in (db.password, db.port, db.endpoint)]

        return pulumi.Output.from_input(facts())

    record()
    pulumi.runtime.test(program)()
    # The endpoint is the primary's fixed lease, reachable from other sites.
    assert seen == {"secret": True, "values": [PASSWORD, POSTGRES_PORT, "10.40.128.2"]}


def test_the_app_env_file_is_root_only_and_its_seed_secret() -> None:
    app = AppConnection(
        database_host=pulumi.Output.from_input("s-db-0"),
        database_port=pulumi.Output.from_input(5432),
        database_name="shop",
        database_user="stageline",
        database_password=pulumi.Output.secret(PASSWORD),
        database_id="db",
        bucket_name=pulumi.Output.from_input("s-data"),
        bucket_id="pool",
    )
    common = compute_args(
        size="xsmall",
        min_count=2,
        max_count=2,
        network_id="s-net",
        subnet_ids=["s-net"],
        ingress_cidr="10.40.0.0/24",
        artifact="ghcr.io/acme/shop:1.0.0",
        app_port=8080,
        app=app,
    )
    monitor = build(lambda site: LibvirtCompute("s-app", common, site=site))
    for i in (0, 1):
        urn = monitor.urn_of(f"s-app-{i}-cidata")
        files = files_of(seed_of(monitor, f"s-app-{i}"))
        env = files[APP_ENV_FILE]
        assert env["permissions"] == "0600", urn
        assert env["owner"] == "root:root", urn
        assert f"{APP_ENV_DATABASE_PASSWORD}={PASSWORD}\n" in env["content"], urn
    for resource in monitor.mocks.created:
        leaks = plain_leaks(resource.inputs, PASSWORD)
        assert not leaks, f"{monitor.urn_of(resource.name)}: password in plain input at {leaks}"


@pytest.mark.parametrize("protect", [True, False])
def test_the_object_pool_and_volume_follow_protect_data(protect: bool) -> None:
    args = storage_args(versioning=True, protect=protect)
    monitor = build(lambda site: LibvirtStorage("s-store", args, site=site))
    for name in ("s-store-pool", "s-store-objects"):
        request = monitor.requests[name]
        assert request.protect is protect, monitor.urn_of(name)
        assert request.retainOnDelete is protect, monitor.urn_of(name)


def test_the_standby_enforces_the_same_tls_and_client_rules() -> None:
    monitor = build(lambda site: database(site, high_availability=True))
    urn = monitor.urn_of("s-db-1-cidata")
    files = files_of(seed_of(monitor, "s-db-1"))
    primary = files_of(seed_of(monitor, "s-db-0"))
    assert files["/etc/stageline/pg_hba.conf"] == primary["/etc/stageline/pg_hba.conf"], urn
    standby_conf = files["/etc/stageline/postgresql.conf"]["content"].splitlines()
    for line in primary["/etc/stageline/postgresql.conf"]["content"].splitlines():
        assert line in standby_conf, (urn, line)


def test_the_data_lives_on_the_data_volume_and_stays_there() -> None:
    monitor = build(lambda site: database(site))
    urn = monitor.urn_of("s-db-0-cidata")
    config = seed_of(monitor, "s-db-0")
    # Guests have no internet: the image brings PostgreSQL, nothing is installed at boot.
    assert "packages" not in config, urn
    setup = files_of(config)["/etc/stageline/db-setup.sh"]["content"]
    assert "apt-get" not in setup, urn
    lines = setup.splitlines()
    # Formatted only when blank (a retained volume keeps its data), mounted by label at boot.
    assert "blkid /dev/vdb >/dev/null || mkfs.ext4 -q -L pgdata /dev/vdb" in lines, urn
    assert (
        "echo 'LABEL=pgdata /var/lib/postgresql ext4 defaults 0 2' >> /etc/fstab"
        in lines[lines.index("mkdir -p /var/lib/postgresql") + 1]
    ), urn
    assert "mountpoint -q /var/lib/postgresql || mount /var/lib/postgresql" in lines, urn
    # The cluster is made only where none is: a replaced VM keeps the volume's data.
    assert f"if [ ! -f /var/lib/postgresql/{VERSION}/main/PG_VERSION ]; then" in lines, urn


@pytest.mark.parametrize("days", [1, 7])
def test_backups_are_a_root_owned_cron_file_keeping_the_retention(days: int) -> None:
    monitor = build(lambda site: database(site, backup_retention_days=days))
    urn = monitor.urn_of("s-db-0-cidata")
    cron = files_of(seed_of(monitor, "s-db-0"))["/etc/cron.d/stageline-backup"]
    assert cron["permissions"] == "0644", urn
    folder = "/var/lib/postgresql/backups"
    assert cron["content"] == (
        f"0 2 * * * postgres mkdir -p {folder} && pg_dumpall | gzip > {folder}/$(date +\\%F)"
        f".sql.gz && find {folder} -name '*.sql.gz' -mtime +{days} -delete\n"
    ), urn


def test_no_backups_leave_an_empty_cron_file() -> None:
    monitor = build(lambda site: database(site, backup_retention_days=0))
    cron = files_of(seed_of(monitor, "s-db-0"))["/etc/cron.d/stageline-backup"]
    assert cron["content"] == "", monitor.urn_of("s-db-0-cidata")


@pytest.mark.parametrize("high_availability", [True, False])
def test_each_database_vm_and_volume_belongs_to_the_component(high_availability: bool) -> None:
    seen: dict[str, Any] = {}

    def make(site: LibvirtSite) -> None:
        db = LibvirtDatabase(
            "s-db",
            database_args(
                engine_version=VERSION,
                size="small",
                storage_gb=20,
                network_id="s-net",
                subnet_ids=["s-net"],
                client_cidrs=CLIENTS,
                password=PASSWORD,
                high_availability=high_availability,
            ),
            pulumi.ResourceOptions(parent=site),
            site=site,
        )

        async def facts() -> None:
            seen["volumes"] = [await v.urn.future() for v in db.data_volumes]
            seen["resource_id"] = await db.resource_id.future()
            seen["identifier"] = await db.identifier.future()

        seen["facts"] = facts

    monitor = build(make)
    pulumi.runtime.test(lambda: pulumi.Output.from_input(seen["facts"]()))()
    count = 2 if high_availability else 1
    assert monitor.requests["s-db"].type == "stageline:database:LibvirtDatabase"
    assert monitor.requests["s-db"].parent == monitor.urn_of("s-site")
    component = monitor.urn_of("s-db")
    domains = [r.name for r in monitor.mocks.created if r.name.endswith("-domain")]
    assert sorted(d for d in domains if d.startswith("s-db-")) == [
        f"s-db-{i}-domain" for i in range(count)
    ], domains
    assert seen["volumes"] == [monitor.urn_of(f"s-db-{i}-data") for i in range(count)]
    assert seen["resource_id"] == "s-db-0-domain-uuid"
    assert seen["identifier"] == "s-db-0"
    for i in range(count):
        for part in ("data", "root", "cidata", "domain"):
            name = f"s-db-{i}-{part}"
            assert monitor.requests[name].parent == component, monitor.urn_of(name)
        assert inputs_of(monitor, f"s-db-{i}-domain")["network"] == "s-net"
        data = inputs_of(monitor, f"s-db-{i}-data")
        assert {k: data[k] for k in ("uri", "pool", "name", "format")} == {
            "uri": "qemu:///system",
            "pool": "s-site-pool-id",
            "name": f"s-db-{i}-data.qcow2",
            "format": "qcow2",
        }, monitor.urn_of(f"s-db-{i}-data")
