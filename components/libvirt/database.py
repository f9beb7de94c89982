"""PostgreSQL on a VM configured by cloud-init, its data on a separate volume.

High availability adds a standby VM that follows the primary by streaming replication.
The password reaches the VM only inside the cloud-init seed, which state keeps encrypted.
"""

from __future__ import annotations

import pulumi

from components.database import ADMIN_USER, Database, DatabaseArgs
from components.libvirt.args import network_of
from components.libvirt.cloudinit import user_data
from components.libvirt.resources.domain import LibvirtDomain
from components.libvirt.resources.password import Password
from components.libvirt.resources.storage import LibvirtVolume
from components.libvirt.site import LibvirtSite
from components.libvirt.vm import VmSpec, build_vm


def backup_cron(days: int) -> str:
    """Nightly dumps on the data volume, kept `days` days (0 turns backups off)."""
    if days <= 0:
        return ""
    folder = "/var/lib/postgresql/backups"
    return (
        f"0 2 * * * postgres mkdir -p {folder} && pg_dumpall | gzip > {folder}/$(date +\\%F).sql.gz"
        f" && find {folder} -name '*.sql.gz' -mtime +{days} -delete\n"
    )


def postgres_user_data(
    hostname: str,
    key: str,
    version: str,
    db: str,
    password: str,
    clients: list[str],
    primary: str,
    backup_days: int,
) -> str:
    """Primary when `primary` is empty; else a standby cloned from it."""
    hba = "\n".join(f"hostssl all all {c} scram-sha-256" for c in clients)
    hba += "\n" + "\n".join(f"hostssl replication {ADMIN_USER} {c} scram-sha-256" for c in clients)
    conf_dir = f"/etc/postgresql/{version}/main"
    setup = [
        "set -eu",
        # The data volume is the second disk; format it once, then mount it for PostgreSQL.
        "blkid /dev/vdb || mkfs.ext4 -L pgdata /dev/vdb",
        "mkdir -p /var/lib/postgresql && mount -L pgdata /var/lib/postgresql",
        "echo 'LABEL=pgdata /var/lib/postgresql ext4 defaults 0 2' >> /etc/fstab",
        f"apt-get install -y postgresql-{version}",
        f"echo \"listen_addresses = '*'\" >> {conf_dir}/postgresql.conf",
        f"echo 'ssl = on' >> {conf_dir}/postgresql.conf",
        f"cat /etc/stageline/pg_hba.conf >> {conf_dir}/pg_hba.conf",
    ]
    if primary:
        setup += [
            f"systemctl stop postgresql@{version}-main",
            f"rm -rf /var/lib/postgresql/{version}/main",
            f"PGPASSFILE=/etc/stageline/pgpass sudo -u postgres pg_basebackup -h {primary} "
            f"-U {ADMIN_USER} -D /var/lib/postgresql/{version}/main -R -X stream",
            f"systemctl start postgresql@{version}-main",
        ]
    else:
        setup += [
            f"systemctl restart postgresql@{version}-main",
            f'sudo -u postgres psql -c "CREATE ROLE {ADMIN_USER} LOGIN REPLICATION '
            "PASSWORD '$(cat /etc/stageline/password)'\"",
            f"sudo -u postgres createdb -O {ADMIN_USER} {db}",
        ]
    return user_data(
        hostname,
        key,
        packages=[],
        write_files=[
            {"path": "/etc/stageline/password", "permissions": "0600", "content": password},
            {
                "path": "/etc/stageline/pgpass",
                "permissions": "0600",
                "owner": "postgres:postgres",
                "content": f"*:*:*:{ADMIN_USER}:{password}\n",
            },
            {"path": "/etc/stageline/pg_hba.conf", "permissions": "0644", "content": hba},
            {"path": "/etc/stageline/setup.sh", "permissions": "0700", "content": "\n".join(setup)},
            {
                "path": "/etc/cron.d/stageline-backup",
                "permissions": "0644",
                "content": backup_cron(backup_days),
            },
        ],
        run=["/etc/stageline/setup.sh"],
    )


class LibvirtDatabase(Database):
    data_volumes: list[LibvirtVolume]
    domains: list[LibvirtDomain]

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
        password = args.password
        if password is None:
            password = Password(f"{name}-password", pulumi.ResourceOptions(parent=self)).result
        secret = pulumi.Output.secret(password)
        primary = f"{site.stack}-db-0"
        self.data_volumes, self.domains = [], []
        for i in range(2 if args.spec.high_availability else 1):
            hostname = f"{site.stack}-db-{i}"
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
            seed = secret.apply(
                lambda pw, host=hostname, standby=i > 0: postgres_user_data(
                    host,
                    site.settings.ssh_public_key,
                    args.spec.engine_version,
                    args.db_name,
                    pw,
                    list(args.client_cidrs),
                    primary if standby else "",
                    args.spec.backup_retention_days,
                )
            )
            self.domains.append(
                build_vm(
                    f"{name}-{i}",
                    site,
                    VmSpec(
                        hostname=hostname,
                        size=args.spec.size,
                        user_data=pulumi.Output.secret(seed),
                        network=network,
                        data_disks=[data.path],
                    ),
                    self,
                )
            )
        self._publish(
            self.domains[0].uuid,
            primary,
            # libvirt's DNS on the stage network resolves domain hostnames.
            primary,
            password,
            args.db_name,
            args.spec.engine_version,
        )
