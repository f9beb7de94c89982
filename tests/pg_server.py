"""Real PostgreSQL 15 servers for tests: a TLS + SCRAM primary, its streaming standby, and a
server without TLS, built with Debian's postgresql-15 binaries in a temporary directory.

initdb and postgres refuse to run as root, so when the tests run as root every server command
runs as the `postgres` system user (which the postgresql-15 package creates) through `runuser`,
in a directory owned by that user. Readiness is polled (`pg_ctl -w`, pg_stat_replication),
never slept on.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
INSTALL_HINT = "apt-get install postgresql-15"
SERVER_USER = "postgres"
SUPERUSER_PASSWORD = "super-Secret-7c1f"
APP_USER = "app"
APP_PASSWORD = "app-Secret-4b9e"
APP_DATABASE = "appdb"
REPLICATION_USER = "replicator"
REPLICATION_PASSWORD = "repl-Secret-93d0"
MD5_USER = "md5user"
CLEARTEXT_USER = "pwuser"
TRUST_USER = "trustuser"
OTHER_PASSWORD = "other-Secret-5e2a"
"""The password of the md5, cleartext and trust users."""
UNICODE_USER = "uniuser"
UNICODE_PASSWORD = "p\u00e4ss\u00adw\u2168rd"
"""Non-ASCII, a soft hyphen (SASLprep maps it to nothing) and ROMAN NUMERAL NINE (NFKC: "IX"):
the server stores SASLprep's result, so a client must prepare the password the same way."""
READY_SECONDS = 60.0


def require_binaries() -> None:
    missing = [
        n
        for n in ("initdb", "postgres", "pg_ctl", "pg_basebackup", "psql")
        if not (PG_BIN / n).is_file()
    ]
    if missing or not shutil.which("openssl"):
        pytest.fail(
            f"PostgreSQL 15 server binaries or openssl missing "
            f"({', '.join(missing) or 'openssl'} in {PG_BIN}): {INSTALL_HINT} openssl",
            pytrace=False,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", SERVER_USER, "--", *cmd]


def _owner() -> tuple[int, int] | None:
    """The uid/gid server files must belong to, or None when not root (files are ours)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.fail(
            f"no `{SERVER_USER}` system user to run PostgreSQL as (it refuses root): "
            f"{INSTALL_HINT} creates it",
            pytrace=False,
        )
    return entry.pw_uid, entry.pw_gid


@dataclass
class Cluster:
    name: str
    datadir: Path
    port: int
    site: Site
    running: bool = False

    @property
    def log_file(self) -> Path:
        return self.site.root / f"{self.name}.log"

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the Unix socket; the output, unaligned."""
        return self.site.run(
            [
                str(PG_BIN / "psql"),
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-Atq",
                "-U",
                "postgres",
                "-h",
                str(self.site.root),
                "-p",
                str(self.port),
                "-d",
                database,
                "-c",
                sql,
            ],
            env={"PGPASSWORD": SUPERUSER_PASSWORD},
        ).strip()

    def start(self) -> None:
        # -w: pg_ctl polls until the server accepts connections (or a standby is ready).
        self.site.run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(int(READY_SECONDS)),
                "start",
            ]
        )
        self.running = True

    def promote(self) -> None:
        """End recovery: the standby becomes a primary (-w: once it accepts writes)."""
        self.site.run([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-w", "promote"])

    def stop(self) -> None:
        if self.running:
            self.site.run(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"],
                check=False,
            )
            self.running = False


@dataclass
class Site:
    """A temporary directory holding servers, their certificate and their logs."""

    root: Path
    clusters: list[Cluster] = field(default_factory=list)

    @property
    def cert(self) -> Path:
        """The servers' self-signed certificate (for 127.0.0.1): its own CA for verify-full."""
        return self.root / "server.crt"

    @property
    def other_ca(self) -> Path:
        """A certificate that did not sign the servers' certificate."""
        return self.root / "other.crt"

    def run(self, cmd: list[str], env: dict[str, str] | None = None, check: bool = True) -> str:
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
        full_env.update(env or {})
        done = subprocess.run(
            _as_server_user(cmd),
            cwd=self.root,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def _own(self, path: Path) -> None:
        owner = _owner()
        if owner is not None:
            os.chown(path, *owner)

    def make_certificates(self) -> None:
        # The servers' certificate names 127.0.0.1, so verify-full passes for that host only.
        for stem, subject_alt_name in (("server", "IP:127.0.0.1"), ("other", "DNS:someone-else")):
            cn = subject_alt_name.split(":", 1)[1]
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    f"/CN={cn}",
                    "-addext",
                    f"subjectAltName={subject_alt_name}",
                    "-keyout",
                    str(self.root / f"{stem}.key"),
                    "-out",
                    str(self.root / f"{stem}.crt"),
                ],
                check=True,
                capture_output=True,
            )
        key = self.root / "server.key"
        key.chmod(0o600)  # postgres refuses a key others can read
        self._own(key)
        self._own(self.cert)

    def init_cluster(self, name: str, ssl: bool, hba: list[str]) -> Cluster:
        datadir = self.root / name
        pwfile = self.root / "superuser.pw"
        pwfile.write_text(SUPERUSER_PASSWORD + "\n")
        self._own(pwfile)
        self.run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(datadir),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--no-sync",
                "--no-instructions",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
        cluster = Cluster(name, datadir, free_port(), self)
        self._configure(cluster, ssl)
        (datadir / "pg_hba.conf").write_text("\n".join(hba) + "\n")
        self.clusters.append(cluster)
        return cluster

    def _configure(self, cluster: Cluster, ssl: bool) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(cluster.port),
            "unix_socket_directories": f"'{self.root}'",
            "ssl": "on" if ssl else "off",
            "ssl_cert_file": f"'{self.cert}'",
            "ssl_key_file": f"'{self.root / 'server.key'}'",
            "log_connections": "on",
            "fsync": "off",  # throwaway servers: durability only costs time here
            "shared_buffers": "16MB",
            "max_connections": "20",
        }
        # postgresql.auto.conf is read last, so this overrides what a base backup copied.
        with (cluster.datadir / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def standby_of(self, primary: Cluster, name: str) -> Cluster:
        datadir = self.root / name
        # -R writes primary_conninfo and standby.signal: the copy starts as a streaming standby.
        self.run(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                REPLICATION_USER,
                "-D",
                str(datadir),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ],
            env={"PGPASSWORD": REPLICATION_PASSWORD, "PGSSLMODE": "require"},
        )
        cluster = Cluster(name, datadir, free_port(), self)
        self._configure(cluster, ssl=True)
        self.clusters.append(cluster)
        return cluster

    def stop_all(self) -> None:
        for cluster in reversed(self.clusters):
            cluster.stop()


def wait_streaming(primary: Cluster, standby: Cluster) -> None:
    """Poll the primary until the standby's WAL receiver streams from it."""
    deadline = time.monotonic() + READY_SECONDS
    query = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
    while primary.psql(query) != "1":
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"standby {standby.name} not streaming after {READY_SECONDS}s:\n"
                f"{standby.log_text()[-2000:]}"
            )
        time.sleep(0.1)  # poll interval, not synchronisation: the loop checks the state


PRIMARY_HBA = [
    "local all postgres scram-sha-256",
    f"hostssl replication {REPLICATION_USER} 127.0.0.1/32 scram-sha-256",
    f"hostssl all {MD5_USER} 127.0.0.1/32 md5",
    f"hostssl all {CLEARTEXT_USER} 127.0.0.1/32 password",
    f"hostssl all {TRUST_USER} 127.0.0.1/32 trust",
    "hostssl all all 127.0.0.1/32 scram-sha-256",
]
"""Only `hostssl` lines: the primary itself refuses plaintext clients."""
PLAINTEXT_HBA = [
    "local all postgres scram-sha-256",
    "host all all 127.0.0.1/32 scram-sha-256",
]


@dataclass(frozen=True)
class Servers:
    primary: Cluster
    standby: Cluster
    plaintext: Cluster
    """ssl=off: accepts a SCRAM login in plaintext, so refusing it is the client's doing."""
    site: Site


def _create_roles(cluster: Cluster, with_others: bool) -> None:
    cluster.psql(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}'")
    cluster.psql(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_USER}")
    if not with_others:
        return
    cluster.psql(
        f"CREATE ROLE {REPLICATION_USER} LOGIN REPLICATION PASSWORD '{REPLICATION_PASSWORD}'"
    )
    cluster.psql(f"CREATE ROLE {UNICODE_USER} LOGIN PASSWORD '{UNICODE_PASSWORD}'")
    for user in (CLEARTEXT_USER, TRUST_USER):
        cluster.psql(f"CREATE ROLE {user} LOGIN PASSWORD '{OTHER_PASSWORD}'")
    # An md5 hba line with a SCRAM-stored password still runs SCRAM: store this one as md5 so
    # that the server really asks for md5.
    cluster.psql(
        f"SET password_encryption = 'md5'; CREATE ROLE {MD5_USER} LOGIN PASSWORD '{OTHER_PASSWORD}'"
    )


def start_servers() -> Iterator[Servers]:
    """The body of a module-scoped fixture: the three servers, stopped and removed after."""
    require_binaries()
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix="stageline-pg-"))
    site = Site(root)
    try:
        if owner is not None:
            os.chown(root, *owner)
        site.make_certificates()
        primary = site.init_cluster("primary", ssl=True, hba=PRIMARY_HBA)
        plaintext = site.init_cluster("plaintext", ssl=False, hba=PLAINTEXT_HBA)
        primary.start()
        plaintext.start()
        _create_roles(primary, with_others=True)
        _create_roles(plaintext, with_others=False)
        standby = site.standby_of(primary, "standby")
        standby.start()
        wait_streaming(primary, standby)
        yield Servers(primary, standby, plaintext, site)
    finally:
        site.stop_all()
        shutil.rmtree(root, ignore_errors=True)
