"""PostgreSQL on a VM configured by cloud-init, its data on a separate volume.

The image brings PostgreSQL (its manifest says which major versions; the live checks refuse an
engineVersion it lacks), so nothing is installed at boot. The cluster lives on the data
volume, which outlives the VM: a replaced VM adopts the cluster it finds there.

Clients log in with TLS and scram-sha-256 only. High availability adds a standby VM that
follows the primary by streaming replication through a physical replication slot, so the
primary keeps the WAL a briefly absent standby still needs.

On a DR stage the first server is a replica of the primary site's database: it clones it and
streams through a slot of its own on the primary (resources/replication.py), and an HA standby
cascades from it. The seed does not depend on the DR role: `stageline dr failover` promotes the
running server, and the converged stack records that without a new VM (resources/replication.py
promotes it if the failover had not).

The password reaches the VMs only inside their cloud-init seeds, which state keeps encrypted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from components.database import ADMIN_USER, POSTGRES_PORT, Database, DatabaseArgs
from components.libvirt.addressing import fixed_address, mac_of
from components.libvirt.args import network_of
from components.libvirt.cloudinit import user_data
from components.libvirt.guest_script import Step, script
from components.libvirt.resources.domain import LibvirtDomain
from components.libvirt.resources.password import Password
from components.libvirt.resources.replication import ReplicaPromotion, ReplicationSlot
from components.libvirt.resources.storage import LibvirtVolume
from components.libvirt.site import LibvirtSite
from components.libvirt.vm import VmSpec, build_vm

DATA_DEVICE = "/dev/vdb"
DATA_MOUNT = "/var/lib/postgresql"
BACKUPS = f"{DATA_MOUNT}/backups"
PASSWORD_FILE = "/etc/stageline/password"
PGPASS = "/etc/stageline/pgpass"
SETUP = "/etc/stageline/db-setup.sh"
SLOT = "standby_1"
"""The one standby's replication slot on the primary."""
PRIMARY_WAIT_SECONDS = 600
"""How long a standby waits for its primary to accept it (both VMs boot together)."""


def backup_cron(days: int) -> str:
    """Nightly dumps on the data volume, kept `days` days (0 turns backups off)."""
    if days <= 0:
        return ""
    return (
        f"0 2 * * * postgres mkdir -p {BACKUPS} && pg_dumpall | gzip"
        f" > {BACKUPS}/$(date +\\%F).sql.gz"
        f" && find {BACKUPS} -name '*.sql.gz' -mtime +{days} -delete\n"
    )


@dataclass(frozen=True)
class Upstream:
    """Where a standby streams from."""

    host: str
    """The upstream server's address."""
    slot: str
    """Its physical replication slot for this standby."""


def slot_name(stack: str) -> str:
    """A DR replica's slot on its primary: one per replica stack (a drill's is its own)."""
    return "dr_" + re.sub(r"[^a-z0-9_]", "_", stack.lower())


def server_conf(version: str, upstream: Upstream | None) -> str:
    """The whole postgresql.conf, written on every boot: a cluster adopted from the data
    volume or cloned from the primary brings no configuration of its own. A standby adds
    where it streams from."""
    conf = f"/etc/postgresql/{version}/main"
    lines = [
        f"data_directory = '{DATA_MOUNT}/{version}/main'",
        f"hba_file = '{conf}/pg_hba.conf'",
        f"ident_file = '{conf}/pg_ident.conf'",
        f"external_pid_file = '/var/run/postgresql/{version}-main.pid'",
        "unix_socket_directories = '/var/run/postgresql'",
        f"cluster_name = '{version}/main'",
        "listen_addresses = '*'",
        f"port = {POSTGRES_PORT}",
        "ssl = on",
        "ssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'",
        "ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'",
        "ssl_min_protocol_version = 'TLSv1.2'",
        "password_encryption = 'scram-sha-256'",
        "wal_level = replica",
        "max_wal_senders = 5",
        "max_replication_slots = 5",
        "hot_standby = on",
    ]
    if upstream:
        lines += [
            f"primary_conninfo = 'host={upstream.host} port={POSTGRES_PORT} user={ADMIN_USER} "
            f"passfile={PGPASS} sslmode=require application_name={upstream.slot}'",
            f"primary_slot_name = '{upstream.slot}'",
        ]
    return "\n".join(lines) + "\n"


def hba(clients: list[str], replicators: list[str] = ()) -> str:  # type: ignore[assignment]
    """TLS and scram from the stage's clients; replication also from the ranges of stages that
    replicate this one (DR); the local superuser by peer only."""
    lines = ["local all postgres peer", "local all all peer"]
    lines += [f"hostssl all all {c} scram-sha-256" for c in clients]
    lines += [
        f"hostssl replication {ADMIN_USER} {c} scram-sha-256"
        for c in dict.fromkeys([*clients, *replicators])
    ]
    # A replica on another site asks for its slot before it clones: the maintenance database
    # only, not the application's.
    lines += [f"hostssl postgres {ADMIN_USER} {c} scram-sha-256" for c in replicators]
    return "\n".join(lines) + "\n"


def setup_steps(
    version: str, db: str, upstream: Upstream | None, serves_slot: bool = False
) -> list[Step]:
    """A primary without `upstream`; else a standby cloned from it and streaming. A server
    that `serves_slot` keeps the slot of its HA standby (which cascades from it on a replica)."""
    data = f"{DATA_MOUNT}/{version}/main"
    conf = f"/etc/postgresql/{version}/main"
    psql = "runuser -u postgres -- psql -v ON_ERROR_STOP=1 -q"
    steps = [
        Step(
            "prepare the data volume",
            f"blkid {DATA_DEVICE} >/dev/null || mkfs.ext4 -q -L pgdata {DATA_DEVICE}\n"
            f"mkdir -p {DATA_MOUNT}\n"
            f"grep -q '^LABEL=pgdata ' /etc/fstab || "
            f"echo 'LABEL=pgdata {DATA_MOUNT} ext4 defaults 0 2' >> /etc/fstab\n"
            f"mountpoint -q {DATA_MOUNT} || mount {DATA_MOUNT}\n"
            f"chown postgres:postgres {DATA_MOUNT}",
        ),
        # The image carries no key: each server makes its own.
        Step("make the TLS key", "make-ssl-cert generate-default-snakeoil --force-overwrite"),
    ]
    if upstream:
        host, slot = upstream.host, upstream.slot
        steps.append(
            Step(
                "clone the primary",
                # Only an empty volume is cloned, and only a fresh clone is marked a standby:
                # a server promoted by a failover stays the primary it became.
                f"if [ ! -f {data}/PG_VERSION ]; then\n"
                # Counted in tries, not clock seconds: an emulated guest's clock may be stepped
                # by many minutes while it waits, which ended a SECONDS-based wait at once.
                "  tries=0\n"
                f"  until runuser -u postgres -- env PGPASSFILE={PGPASS} PGSSLMODE=require "
                f"psql -h {host} -U {ADMIN_USER} -d postgres -Atc "
                f"\"SELECT 1 FROM pg_replication_slots WHERE slot_name = '{slot}'\" "
                f"2>/dev/null | grep -q 1; do\n"
                "    tries=$((tries + 1))\n"
                f"    [ $tries -lt {PRIMARY_WAIT_SECONDS // 3} ] || "
                f"{{ echo 'primary {host} not ready'; false; }}\n"
                "    sleep 3\n"
                "  done\n"
                f"  rm -rf {data} && install -d -o postgres -g postgres {DATA_MOUNT}/{version}\n"
                f"  runuser -u postgres -- env PGPASSFILE={PGPASS} PGSSLMODE=require "
                f"pg_basebackup -h {host} -U {ADMIN_USER} -D {data} -X stream -S {slot} "
                # A spread checkpoint would hold the clone for minutes on an idle primary.
                "--checkpoint=fast\n"
                # The seed's postgresql.conf says where to follow; a primary that once followed
                # another (a failback) carries that in postgresql.auto.conf, which the clone copies.
                f"  sed -i '/^primary_conninfo/d; /^primary_slot_name/d' "
                f"{data}/postgresql.auto.conf\n"
                f"  touch {data}/standby.signal && chown postgres:postgres {data}/standby.signal\n"
                "fi",
            )
        )
    steps += [
        Step(
            "create the cluster",
            # A cluster already on the volume (a replaced VM, or the standby's clone) is kept;
            # the configuration, which lives on the root disk, is written afresh either way.
            # (pg_createcluster cannot adopt a cluster whose configuration lives elsewhere.)
            f"if [ ! -f {data}/PG_VERSION ]; then\n"
            f"  install -d -o postgres -g postgres {DATA_MOUNT}/{version}\n"
            f"  runuser -u postgres -- /usr/lib/postgresql/{version}/bin/initdb -D {data} "
            "--auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8"
            " >/dev/null\n"
            f"  rm -f {data}/postgresql.conf {data}/pg_hba.conf {data}/pg_ident.conf\n"
            "fi\n"
            f"install -d -o postgres -g postgres {conf} {conf}/conf.d\n"
            f"echo auto > {conf}/start.conf\n"
            f": > {conf}/pg_ctl.conf && : > {conf}/environment && touch {conf}/pg_ident.conf\n"
            f"install -m 0644 /etc/stageline/postgresql.conf {conf}/postgresql.conf\n"
            f"install -m 0640 /etc/stageline/pg_hba.conf {conf}/pg_hba.conf\n"
            f"chown -R postgres:postgres {conf}",
        ),
        Step(
            "start PostgreSQL",
            f"systemctl enable postgresql@{version}-main\n"
            f"systemctl restart postgresql@{version}-main",
        ),
    ]
    if not upstream:
        steps += [
            Step(
                "create the role, database and replication slot",
                # An unreadable file would set an empty password, which PostgreSQL stores as none.
                f"runuser -u postgres -- test -s {PASSWORD_FILE}\n"
                f"{psql} <<'SQL'\n"
                f"\\set pw `cat {PASSWORD_FILE}`\n"
                f"SELECT 'CREATE ROLE {ADMIN_USER} LOGIN REPLICATION' WHERE NOT EXISTS "
                f"(SELECT FROM pg_roles WHERE rolname = '{ADMIN_USER}') \\gexec\n"
                f"ALTER ROLE {ADMIN_USER} PASSWORD :'pw';\n"
                f"SELECT 'CREATE DATABASE {db} OWNER {ADMIN_USER}' WHERE NOT EXISTS "
                f"(SELECT FROM pg_database WHERE datname = '{db}') \\gexec\n"
                # Only for a standby that exists: an unused slot keeps WAL forever.
                + (
                    f"SELECT pg_create_physical_replication_slot('{SLOT}') WHERE NOT EXISTS "
                    f"(SELECT FROM pg_replication_slots WHERE slot_name = '{SLOT}');\n"
                    if serves_slot
                    else ""
                )
                + "SQL",
            )
        ]
    else:
        steps.append(
            Step(
                "start streaming",
                # A promoted server (after a failover) streams from no one.
                "for i in $(seq 60); do\n"
                f"  [ \"$({psql} -Atc 'SELECT pg_is_in_recovery()')\" = f ] && exit_ok=1 && break\n"
                f"  [ \"$({psql} -Atc 'SELECT status FROM pg_stat_wal_receiver')\" = streaming ]"
                " && exit_ok=1 && break\n"
                "  sleep 2\n"
                "done\n"
                '[ "${exit_ok:-}" = 1 ] || { echo "the standby does not stream"; false; }',
            )
        )
        if serves_slot:
            steps.append(
                Step(
                    "keep the cascading standby's slot",
                    f"{psql} -c \"SELECT pg_create_physical_replication_slot('{SLOT}') WHERE "
                    f"NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '{SLOT}')\"",
                )
            )
    return steps


def postgres_user_data(
    hostname: str,
    key: str,
    version: str,
    db: str,
    password: str,
    clients: list[str],
    replicators: list[str],
    upstream: Upstream | None,
    backup_days: int,
    serves_slot: bool = False,
) -> str:
    """A primary without `upstream`; else a standby cloned from it."""
    return user_data(
        hostname,
        key,
        write_files=[
            # psql, run as postgres, reads it to set the role's password.
            {
                "path": PASSWORD_FILE,
                "permissions": "0600",
                "owner": "postgres:postgres",
                "content": password,
            },
            {
                "path": PGPASS,
                "permissions": "0600",
                "owner": "postgres:postgres",
                "content": f"*:*:*:{ADMIN_USER}:{password}\n",
            },
            {
                "path": "/etc/stageline/pg_hba.conf",
                "permissions": "0644",
                "content": hba(clients, replicators),
            },
            {
                "path": "/etc/stageline/postgresql.conf",
                "permissions": "0644",
                "content": server_conf(version, upstream),
            },
            {
                "path": SETUP,
                "permissions": "0700",
                "content": script(setup_steps(version, db, upstream, serves_slot)),
            },
            {
                "path": "/etc/cron.d/stageline-backup",
                "permissions": "0644",
                "content": backup_cron(backup_days),
            },
        ],
        run=[SETUP],
    )


class LibvirtDatabase(Database):
    data_volumes: list[LibvirtVolume]
    domains: list[LibvirtDomain]
    slot: ReplicationSlot | None
    """On a DR stage: this replica's slot on the primary."""
    promotion: ReplicaPromotion | None
    """On a DR stage: keeps the recorded role (promotes once the role is active)."""

    def __init__(
        self,
        name: str,
        args: DatabaseArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        site: LibvirtSite,
    ) -> None:
        super().__init__("stageline:database:LibvirtDatabase", name, None, opts)
        network = network_of(args.subnet_ids)
        cidr = args.client_cidrs[0]
        replica = args.replica
        self.slot, self.promotion = None, None
        if replica is not None:
            # A clone carries the primary's roles: the replica logs in, and serves, with the
            # primary's password.
            password: pulumi.Input[str] = replica.source.replication_password
            self.slot = ReplicationSlot(
                f"{name}-slot",
                {
                    "uri": replica.source.site,
                    "domain": f"{replica.source.stage}-db-0",
                    "slot": slot_name(site.stack),
                },
                pulumi.ResourceOptions(parent=self),
            )
            first = Upstream(replica.source.database_endpoint, slot_name(site.stack))
        else:
            password = (
                args.password
                or Password(f"{name}-password", pulumi.ResourceOptions(parent=self)).result
            )
            first = None
        secret = pulumi.Output.secret(password)
        primary = fixed_address(cidr, "db-0")
        self.data_volumes, self.domains = [], []
        for i in range(2 if args.spec.high_availability else 1):
            hostname = f"{site.stack}-db-{i}"
            upstream = first if i == 0 else Upstream(primary, SLOT)
            data = LibvirtVolume(
                f"{name}-{i}-data",
                {
                    "uri": site.uri,
                    "pool": site.pool.id,
                    "name": f"{hostname}-data.qcow2",
                    "format": "qcow2",
                    "capacityGb": args.spec.storage_gb,
                },
                pulumi.ResourceOptions(
                    parent=self, protect=args.protect, retain_on_delete=args.protect
                ),
            )
            self.data_volumes.append(data)
            # The first server of an HA pair keeps the slot its standby streams through.
            serves = i == 0 and args.spec.high_availability
            seed = secret.apply(
                lambda pw, host=hostname, up=upstream, serves=serves: postgres_user_data(
                    host,
                    site.settings.ssh_public_key,
                    args.spec.engine_version,
                    args.db_name,
                    pw,
                    list(args.client_cidrs),
                    list(args.replica_cidrs),
                    up,
                    args.spec.backup_retention_days,
                    serves,
                )
            )
            self.domains.append(
                build_vm(
                    f"{name}-{i}",
                    site,
                    VmSpec(
                        hostname=hostname,
                        role="database",
                        size=args.spec.size,
                        user_data=pulumi.Output.secret(seed),
                        network=network,
                        data_disks=[data.path],
                        mac=mac_of(hostname),
                    ),
                    self,
                    depends_on=[self.slot] if i == 0 and self.slot else [],
                )
            )
        if replica is not None:
            self.promotion = ReplicaPromotion(
                f"{name}-role",
                {"uri": site.uri, "domain": f"{site.stack}-db-0", "role": replica.role},
                pulumi.ResourceOptions(parent=self, depends_on=[self.domains[0]]),
            )
        self._publish(
            self.domains[0].uuid,
            f"{site.stack}-db-0",
            # A fixed address: DR replicas on other sites reach it too.
            primary,
            password,
            args.db_name,
            args.spec.engine_version,
        )
