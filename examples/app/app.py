"""stageline's reference release: a small HTTP service that reports its own health.

It runs on Debian 12 guests that have python3 and no internet, so it uses the standard library
only. Configuration comes from the environment that stageline's guest template writes:

    PORT               listen port (on 0.0.0.0)
    APP_VERSION        the release's appVersion, echoed by /healthz
    DATABASE_HOST      unset means no database is wired: health says so and stays 200
    DATABASE_PORT      default 5432
    DATABASE_NAME      default: the user name (as libpq)
    DATABASE_USER, DATABASE_PASSWORD
    PGSSLMODE          libpq semantics; stageline sets `require`
    PGSSLROOTCERT      the CA file for verify-ca/verify-full

`GET /healthz` logs into the database afresh on every request, with a short timeout, so a
failover or an outage shows up at once. Nothing this process writes contains the password.
"""

import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from pgwire import SSL_MODES, ConnParams, PgError, server_role

DB_TIMEOUT_SECONDS = 3.0
_log_lock = threading.Lock()


def log(line: str) -> None:
    # One line per event on stdout (journald keeps it); a lock keeps threads' lines whole.
    with _log_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


@dataclass(frozen=True)
class Settings:
    port: int
    app_version: str | None
    database: ConnParams | None
    """None when no database is wired (DATABASE_HOST unset)."""
    database_problem: str | None = None
    """A configuration error of the database variables, reported by /healthz (the app keeps
    serving so that the operator sees the cause, instead of a restart loop)."""


def settings_from(env: dict[str, str]) -> Settings:
    """Read the environment; an unusable PORT is fatal, a bad database variable is reported."""
    port_text = env.get("PORT", "8080")
    try:
        port = int(port_text)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise SystemExit(f"PORT={port_text!r} is not a TCP port: set PORT to 1-65535") from None
    version = env.get("APP_VERSION") or None
    host = env.get("DATABASE_HOST", "").strip()
    if not host:
        return Settings(port, version, None)
    user = env.get("DATABASE_USER", "")
    db_port_text = env.get("DATABASE_PORT", "5432")
    sslmode = env.get("PGSSLMODE", "prefer")  # libpq's default when unset
    problem = None
    try:
        db_port = int(db_port_text)
        if not 0 < db_port < 65536:
            raise ValueError
    except ValueError:
        db_port, problem = 5432, f"DATABASE_PORT={db_port_text!r} is not a TCP port"
    if not user:
        problem = "DATABASE_USER is not set"
    elif sslmode not in SSL_MODES:
        problem = f"PGSSLMODE={sslmode!r} is not supported; use one of {', '.join(SSL_MODES)}"
    params = ConnParams(
        host=host,
        port=db_port,
        database=env.get("DATABASE_NAME") or user,
        user=user,
        password=env.get("DATABASE_PASSWORD", ""),
        sslmode=sslmode,
        sslrootcert=env.get("PGSSLROOTCERT") or None,
        timeout=DB_TIMEOUT_SECONDS,
    )
    return Settings(port, version, params, problem)


def database_health(settings: Settings) -> dict[str, object]:
    params = settings.database
    if params is None:
        return {
            "configured": False,
            "reachable": False,
            "role": None,
            "error": None,
            "latencyMs": 0,
        }
    started = time.monotonic()
    role, error = None, settings.database_problem
    if error is None:
        try:
            role = server_role(params)
        except PgError as exc:
            error = str(exc)
    if error and params.password:
        # Belt and braces: no server message should echo it, but never let one through.
        error = error.replace(params.password, "***")
    return {
        "configured": True,
        "reachable": role is not None,
        "role": role,
        "error": error,
        "latencyMs": round((time.monotonic() - started) * 1000, 1),
    }


def health(settings: Settings) -> tuple[int, dict[str, object]]:
    database = database_health(settings)
    healthy = database["reachable"] or not database["configured"]
    body = {
        "status": "ok" if healthy else "degraded",
        "appVersion": settings.app_version,
        "database": database,
    }
    return (HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE), body


class Handler(BaseHTTPRequestHandler):
    settings: Settings  # set on the subclass that main() builds

    def version_string(self) -> str:
        return "stageline-example-app"  # no Python version in the Server header

    def _send_json(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, HEAD")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _route(self) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":
            self._send_json(*health(self.settings))
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found", "path": path})

    do_GET = _route
    do_HEAD = _route

    def _not_allowed(self) -> None:
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"})

    do_POST = do_PUT = do_PATCH = do_DELETE = _not_allowed

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = code.value if isinstance(code, HTTPStatus) else code
        log(f"{self.command} {urlsplit(self.path).path} {status}")

    def log_message(self, format: str, *args: object) -> None:
        # Malformed requests and other http.server notes: one line, on stdout like the rest.
        log("http: " + (format % args))


def main() -> None:
    settings = settings_from(dict(os.environ))
    handler = type("ConfiguredHandler", (Handler,), {"settings": settings})
    server = ThreadingHTTPServer(("0.0.0.0", settings.port), handler)
    server.daemon_threads = True
    db = settings.database
    where = f"{db.user}@{db.host}:{db.port}/{db.database} sslmode={db.sslmode}" if db else "none"
    log(f"listening on 0.0.0.0:{settings.port} appVersion={settings.app_version} database={where}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
