"""The example app (stageline's reference release) against real PostgreSQL 15 servers.

The app runs as its release runs on a guest: `examples/app/start` in a subprocess with the
environment stageline writes. The servers (tests/pg_server.py) are started once for the module:
a TLS + SCRAM primary, its streaming standby and a server without TLS.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.pg_server import (
    APP_DATABASE,
    APP_PASSWORD,
    APP_USER,
    CLEARTEXT_USER,
    MD5_USER,
    OTHER_PASSWORD,
    TRUST_USER,
    UNICODE_PASSWORD,
    UNICODE_USER,
    Cluster,
    Servers,
    free_port,
    start_servers,
)

APP_DIR = Path(__file__).resolve().parents[2] / "examples" / "app"
START = APP_DIR / "start"
VERSION = "1.4.2-rc1"


@pytest.fixture(scope="module")
def pg_servers() -> Iterator[Servers]:
    """Started once for the module: initdb and a base backup take seconds."""
    yield from start_servers()


def load_pgwire() -> ModuleType:
    """The app's wire-protocol module, loaded from its file (the app is not a package)."""
    spec = importlib.util.spec_from_file_location("example_app_pgwire", APP_DIR / "pgwire.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class App:
    port: int
    process: subprocess.Popen[bytes]
    stdout_file: Path
    stderr_file: Path
    stdout: str = ""
    stderr: str = ""
    """What the app wrote, once it has stopped."""

    def get(self, path: str) -> tuple[int, dict[str, Any], str]:
        """Status, parsed JSON body and raw body of a GET."""
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=15) as response:
                raw = response.read().decode()
                status = response.status
        except urllib.error.HTTPError as err:
            raw, status = err.read().decode(), err.code
        return status, json.loads(raw), raw

    def output(self) -> str:
        return self.stdout + self.stderr


@contextmanager
def running_app(env: dict[str, str]) -> Iterator[App]:
    """Start the release's entry point on a free port and wait until it accepts connections."""
    port = free_port()
    with tempfile.TemporaryDirectory() as logs:
        stdout, stderr = Path(logs) / "stdout", Path(logs) / "stderr"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [str(START)],
                cwd=APP_DIR,
                env={"PATH": os.environ["PATH"], "PORT": str(port), **env},
                stdout=out,
                stderr=err,
            )
        app = App(port, process, stdout, stderr)
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the app exited {process.returncode}:\n{stderr.read_text()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"the app did not listen on {port} in 30 s")
                    time.sleep(0.05)  # poll interval; the loop checks readiness
            yield app
        finally:
            process.terminate()
            process.wait(timeout=10)
            app.stdout, app.stderr = stdout.read_text(), stderr.read_text()


def database_env(cluster: Cluster, **overrides: str) -> dict[str, str]:
    env = {
        "APP_VERSION": VERSION,
        "DATABASE_HOST": "127.0.0.1",
        "DATABASE_PORT": str(cluster.port),
        "DATABASE_NAME": APP_DATABASE,
        "DATABASE_USER": APP_USER,
        "DATABASE_PASSWORD": APP_PASSWORD,
        "PGSSLMODE": "require",
    }
    env.update(overrides)
    return env


def authorized_lines(cluster: Cluster) -> list[str]:
    """The server's own record of completed logins (log_connections=on)."""
    return [line for line in cluster.log_text().splitlines() if "connection authorized" in line]


def test_app_serves_version_and_primary_over_tls_each_request(pg_servers: Servers) -> None:
    primary = pg_servers.primary
    before = len(authorized_lines(primary))
    with running_app(database_env(primary)) as app:
        first = app.get("/healthz")
        status, body, raw = app.get("/healthz")
    assert first[0] == 200, first[2]
    assert status == 200, raw
    assert body["status"] == "ok"
    assert body["appVersion"] == VERSION
    db = body["database"]
    assert db["configured"] is True and db["reachable"] is True, raw
    assert db["role"] == "primary" and db["error"] is None, raw
    assert isinstance(db["latencyMs"], int | float) and db["latencyMs"] > 0
    # Each request logged in afresh, over TLS, with the app's name: the server says so.
    new = authorized_lines(primary)[before:]
    ours = [
        line
        for line in new
        if f"user={APP_USER} database={APP_DATABASE} application_name=stageline-example-app" in line
    ]
    assert len(ours) == 2, "\n".join(new)
    assert all("SSL enabled" in line for line in ours), "\n".join(ours)
    assert APP_PASSWORD not in raw + first[2] + app.output()
    assert "GET /healthz 200" in app.stdout


def test_streaming_standby_reports_standby(pg_servers: Servers) -> None:
    with running_app(database_env(pg_servers.standby)) as app:
        status, body, raw = app.get("/healthz")
    assert status == 200, raw
    assert body["database"]["role"] == "standby", raw
    assert body["database"]["reachable"] is True


def test_a_failover_shows_on_the_next_request(pg_servers: Servers) -> None:
    """A standby of its own (the shared one stays a standby) promoted while the app runs."""
    site = pg_servers.site
    standby = site.standby_of(pg_servers.primary, "failover")
    standby.start()
    with running_app(database_env(standby)) as app:
        before = app.get("/healthz")
        standby.promote()
        after = app.get("/healthz")
    assert before[1]["database"]["role"] == "standby", before[2]
    assert after[0] == 200 and after[1]["database"]["role"] == "primary", after[2]


def test_wrong_password_is_503_without_leaking_it(pg_servers: Servers) -> None:
    wrong = "Wrong-Pass-6f1d2"
    env = database_env(pg_servers.primary, DATABASE_PASSWORD=wrong)
    with running_app(env) as app:
        status, body, raw = app.get("/healthz")
    assert status == 503, raw
    assert body["status"] == "degraded"
    assert body["appVersion"] == VERSION
    db = body["database"]
    assert db["configured"] is True and db["reachable"] is False and db["role"] is None
    assert "password authentication failed" in db["error"], raw
    assert "28P01" in db["error"], raw
    assert wrong not in raw and wrong not in app.output()
    assert "GET /healthz 503" in app.stdout


@pytest.mark.parametrize(
    ("user", "asked"),
    [
        (MD5_USER, "md5 password"),
        (CLEARTEXT_USER, "cleartext password"),
        (TRUST_USER, "without authentication (trust)"),
    ],
)
def test_non_scram_server_is_refused(pg_servers: Servers, user: str, asked: str) -> None:
    env = database_env(pg_servers.primary, DATABASE_USER=user, DATABASE_PASSWORD=OTHER_PASSWORD)
    with running_app(env) as app:
        status, body, raw = app.get("/healthz")
    assert status == 503, raw
    error = body["database"]["error"]
    assert asked in error and "only SCRAM-SHA-256 is allowed" in error, raw
    assert OTHER_PASSWORD not in raw + app.output()


def test_unicode_password_is_saslprepped_like_the_server(pg_servers: Servers) -> None:
    env = database_env(
        pg_servers.primary, DATABASE_USER=UNICODE_USER, DATABASE_PASSWORD=UNICODE_PASSWORD
    )
    with running_app(env) as app:
        status, _, raw = app.get("/healthz")
    assert status == 200, raw


def test_server_without_tls_is_refused_before_any_login(pg_servers: Servers) -> None:
    plaintext = pg_servers.plaintext
    before = len(authorized_lines(plaintext))
    with running_app(database_env(plaintext)) as app:
        status, body, raw = app.get("/healthz")
    assert status == 503, raw
    assert "does not support TLS" in body["database"]["error"], raw
    assert authorized_lines(plaintext)[before:] == []
    # The same server does accept this login in plaintext, so the refusal above is the app's.
    with running_app(database_env(plaintext, PGSSLMODE="prefer")) as app:
        status, body, raw = app.get("/healthz")
    assert status == 200, raw
    assert len(authorized_lines(plaintext)) == before + 1


def test_verify_full_checks_the_certificate(pg_servers: Servers) -> None:
    primary, site = pg_servers.primary, pg_servers.site
    good = database_env(primary, PGSSLMODE="verify-full", PGSSLROOTCERT=str(site.cert))
    with running_app(good) as app:
        status, _, raw = app.get("/healthz")
    assert status == 200, raw
    cases = {
        "unknown CA": (
            {"PGSSLROOTCERT": str(site.other_ca)},
            "certificate failed verification",
        ),
        # The certificate names 127.0.0.1 only.
        "wrong host name": (
            {"PGSSLROOTCERT": str(site.cert), "DATABASE_HOST": "localhost"},
            "certificate failed verification",
        ),
        "no root certificate": ({}, "PGSSLROOTCERT"),
    }
    for case, (overrides, expected) in cases.items():
        with running_app(database_env(primary, PGSSLMODE="verify-full", **overrides)) as app:
            status, body, raw = app.get("/healthz")
        assert status == 503, f"{case}: {raw}"
        assert expected in body["database"]["error"], f"{case}: {raw}"


def test_require_with_a_root_certificate_verifies_it_as_libpq(pg_servers: Servers) -> None:
    env = database_env(pg_servers.primary, PGSSLROOTCERT=str(pg_servers.site.other_ca))
    with running_app(env) as app:
        status, body, raw = app.get("/healthz")
    assert status == 503, raw
    assert "certificate failed verification" in body["database"]["error"], raw


def test_unreachable_database_is_503_quickly() -> None:
    closed = free_port()
    env = {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": str(closed), "DATABASE_USER": "x"}
    with running_app(env) as app:
        status, body, raw = app.get("/healthz")
    assert status == 503, raw
    assert "cannot connect" in body["database"]["error"], raw
    assert body["database"]["latencyMs"] < 3000


def test_no_database_wired_and_unknown_path() -> None:
    with running_app({"APP_VERSION": VERSION}) as app:
        status, body, raw = app.get("/healthz")
        missing, missing_body, _ = app.get("/nope")
    assert status == 200, raw
    assert body == {
        "status": "ok",
        "appVersion": VERSION,
        "database": {
            "configured": False,
            "reachable": False,
            "role": None,
            "error": None,
            "latencyMs": 0,
        },
    }
    assert missing == 404
    assert missing_body["error"] == "not found"
    assert "GET /nope 404" in app.stdout


# RFC 7677, section 3: the SCRAM-SHA-256 example exchange.
RFC7677_CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC7677_SERVER_FIRST = (
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
RFC7677_CLIENT_FINAL = (
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
RFC7677_SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_scram_matches_rfc7677_vector() -> None:
    pgwire = load_pgwire()
    client = pgwire.ScramClient("user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    assert client.first_message() == RFC7677_CLIENT_FIRST
    assert client.final_message(RFC7677_SERVER_FIRST) == RFC7677_CLIENT_FINAL
    client.verify_server(RFC7677_SERVER_FINAL)  # the server's signature is accepted
    forged = hashlib.sha256(b"not the server key").digest()
    with pytest.raises(pgwire.PgError, match="signature is wrong"):
        client.verify_server("v=" + base64.b64encode(forged).decode())


def test_scram_refuses_a_nonce_that_does_not_extend_the_clients() -> None:
    pgwire = load_pgwire()
    client = pgwire.ScramClient("user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    replay = RFC7677_SERVER_FIRST.replace("r=rOprNGfwEbeRWgbNEkqO", "r=somebodyElsesNonce")
    with pytest.raises(pgwire.PgError, match="nonce"):
        client.final_message(replay)


def _read_message(conn: socket.socket, typed: bool = True) -> bytes:
    def exact(size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            assert chunk, "client closed early"
            data += chunk
        return data

    head = exact(5 if typed else 4)
    return exact(struct.unpack("!i", head[-4:])[0] - 4)


def _auth(code: int, payload: bytes = b"") -> bytes:
    body = struct.pack("!i", code) + payload
    return b"R" + struct.pack("!i", len(body) + 4) + body


def test_a_server_that_skips_its_scram_proof_is_refused() -> None:
    """A server that ends SCRAM with AuthenticationOk and no signature has not proved it knows
    the password (it could be anyone): no real server does this, so a scripted one stands in."""
    pgwire = load_pgwire()
    listener = socket.create_server(("127.0.0.1", 0))
    nonces: list[str] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            _read_message(conn, typed=False)  # StartupMessage (sslmode=disable: no TLS)
            conn.sendall(_auth(10, b"SCRAM-SHA-256\0\0"))
            initial = _read_message(conn)  # SASLInitialResponse: mechanism, length, first
            client_first = initial.split(b"\0", 1)[1][4:].decode()
            nonce = client_first.rsplit("r=", 1)[1]
            nonces.append(nonce)
            salt = base64.b64encode(b"0123456789abcdef").decode()
            conn.sendall(_auth(11, f"r={nonce}server,s={salt},i=4096".encode()))
            _read_message(conn)  # the client's proof
            conn.sendall(_auth(0))  # "OK" without the server-final signature

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    params = pgwire.ConnParams(
        host="127.0.0.1",
        port=listener.getsockname()[1],
        database="appdb",
        user="app",
        password="secret",
        sslmode="disable",
    )
    with listener, pytest.raises(pgwire.PgError, match="without proving it knows the password"):
        pgwire.query_one(params, "SELECT 1")
    thread.join(timeout=5)
    assert len(nonces) == 1 and len(nonces[0]) >= 24  # a fresh random nonce was sent
