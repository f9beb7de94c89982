"""A minimal PostgreSQL client: TLS, a SCRAM-SHA-256 login and one simple query.

The example app runs on guests that have python3 and nothing else (no internet, no pip), so
the health check speaks the PostgreSQL v3 wire protocol itself, with the standard library only.
It implements just what a health check needs, and refuses everything weaker than what
stageline's databases are configured for:

- TLS per libpq's `sslmode` (`require` is mandatory TLS without certificate checks;
  `verify-ca`/`verify-full` check the server against `PGSSLROOTCERT`);
- SCRAM-SHA-256 only (RFC 5802 / RFC 7677). A server that asks for a cleartext or md5 password,
  or lets the client in without authenticating at all, is refused: SCRAM is the one method in
  which the server also proves it knows the password, and that proof is verified here;
- the simple query protocol for one statement, returning the first column of the first row.

Errors are raised as `PgError` with a readable message and never contain the password.
"""

import base64
import hashlib
import hmac
import os
import secrets
import socket
import ssl
import stringprep
import struct
import time
import unicodedata
from dataclasses import dataclass, field

PROTOCOL_3_0 = 196608
SSL_REQUEST_CODE = 80877103
SCRAM_MECHANISM = "SCRAM-SHA-256"
SSL_MODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
TLS_MODES = ("require", "verify-ca", "verify-full")
"""The modes in which a server without TLS is refused instead of logged into in plaintext."""
MAX_SCRAM_ITERATIONS = 1_000_000
"""PBKDF2 runs in this thread outside every socket timeout; a bound keeps a hostile server from
stalling the health check (PostgreSQL's default is 4096)."""

# Authentication request codes of the 'R' message (PostgreSQL protocol, "Message Formats").
AUTH_OK = 0
AUTH_SASL = 10
AUTH_SASL_CONTINUE = 11
AUTH_SASL_FINAL = 12
AUTH_NAMES = {
    2: "Kerberos V5",
    3: "cleartext password",
    5: "md5 password",
    7: "GSSAPI",
    9: "SSPI",
}


class PgError(Exception):
    """The database could not be reached, refused the login, or failed the query."""


@dataclass(frozen=True)
class ConnParams:
    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False)
    sslmode: str = "prefer"
    sslrootcert: str | None = None
    application_name: str = "stageline-example-app"
    timeout: float = 3.0
    """Seconds for the whole exchange, connect to last byte."""


# --- SCRAM-SHA-256 (RFC 5802, RFC 7677) -----------------------------------------------------


def saslprep(password: str) -> bytes:
    """The password bytes PostgreSQL's SCRAM uses: SASLprep (RFC 4013) as the server applies it.

    PostgreSQL's own rule: pure ASCII is used as is, and a password that SASLprep rejects is
    used as its raw UTF-8 bytes, so both sides still derive the same key.
    """
    if password.isascii():
        return password.encode()
    mapped = []
    for ch in password:
        if stringprep.in_table_b1(ch):  # "commonly mapped to nothing" (soft hyphen, ZWJ, ...)
            continue
        mapped.append(" " if stringprep.in_table_c12(ch) else ch)  # non-ASCII spaces
    prepared = unicodedata.normalize("NFKC", "".join(mapped))
    prohibited = (
        stringprep.in_table_c12,
        stringprep.in_table_c21_c22,
        stringprep.in_table_c3,
        stringprep.in_table_c4,
        stringprep.in_table_c5,
        stringprep.in_table_c6,
        stringprep.in_table_c7,
        stringprep.in_table_c8,
        stringprep.in_table_c9,
        stringprep.in_table_a1,
    )
    if any(check(ch) for ch in prepared for check in prohibited):
        return password.encode()
    if any(stringprep.in_table_d1(ch) for ch in prepared) and (
        any(stringprep.in_table_d2(ch) for ch in prepared)
        or not stringprep.in_table_d1(prepared[0])
        or not stringprep.in_table_d1(prepared[-1])
    ):
        return password.encode()
    return prepared.encode()


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _attributes(message: str) -> dict[str, str]:
    """`a=1,b=2` into a dict; values may contain '=' (base64 padding)."""
    attrs: dict[str, str] = {}
    for part in message.split(","):
        key, sep, value = part.partition("=")
        if not sep or len(key) != 1:
            raise PgError(f"malformed SCRAM message from the server: {message!r}")
        attrs.setdefault(key, value)
    return attrs


class ScramClient:
    """One SCRAM-SHA-256 exchange, without channel binding (gs2 header "n,,").

    PostgreSQL takes the user from the startup message and ignores the SCRAM user name, so the
    database client passes an empty one, as libpq does.
    """

    GS2_HEADER = "n,,"

    def __init__(self, user: str, password: str, nonce: str | None = None) -> None:
        # 18 random bytes: the same entropy as libpq's nonce; base64 never contains ','.
        self._nonce = nonce if nonce is not None else _b64(secrets.token_bytes(18))
        name = user.replace("=", "=3D").replace(",", "=2C")
        self._first_bare = f"n={name},r={self._nonce}"
        self._password = saslprep(password)
        self._server_signature: bytes | None = None
        self.verified = False
        """True once the server has proved it knows the password (its signature matched)."""

    def first_message(self) -> str:
        return self.GS2_HEADER + self._first_bare

    def final_message(self, server_first: str) -> str:
        """The client-final-message proving the password, from the server's nonce/salt/count."""
        attrs = _attributes(server_first)
        if "m" in attrs:
            raise PgError("the server requires a SCRAM extension this client does not know")
        nonce, salt_b64, iterations_text = attrs.get("r"), attrs.get("s"), attrs.get("i")
        if nonce is None or salt_b64 is None or iterations_text is None:
            raise PgError(f"incomplete SCRAM server-first-message: {server_first!r}")
        # The server's nonce must extend ours, or this is a replay of another exchange.
        if not nonce.startswith(self._nonce) or len(nonce) == len(self._nonce):
            raise PgError("the server's SCRAM nonce does not extend the client's")
        try:
            salt = base64.b64decode(salt_b64, validate=True)
            iterations = int(iterations_text)
        except ValueError as exc:
            raise PgError(f"malformed SCRAM salt or iteration count: {exc}") from None
        if not salt or not 1 <= iterations <= MAX_SCRAM_ITERATIONS:
            raise PgError(
                f"SCRAM parameters out of range: salt of {len(salt)} bytes, "
                f"{iterations} iterations (at most {MAX_SCRAM_ITERATIONS})"
            )
        salted = hashlib.pbkdf2_hmac("sha256", self._password, salt, iterations)
        client_key = _hmac(salted, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c={_b64(self.GS2_HEADER.encode())},r={nonce}"
        auth_message = f"{self._first_bare},{server_first},{without_proof}".encode()
        signature = _hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        self._server_signature = _hmac(_hmac(salted, b"Server Key"), auth_message)
        return f"{without_proof},p={_b64(proof)}"

    def verify_server(self, server_final: str) -> None:
        """Check that the server knows the password too; raise PgError when it does not."""
        if self._server_signature is None:
            raise PgError("SCRAM server-final-message before the client's proof")
        attrs = _attributes(server_final)
        if "e" in attrs:
            raise PgError(f"SCRAM authentication failed on the server: {attrs['e']}")
        try:
            received = base64.b64decode(attrs.get("v", ""), validate=True)
        except ValueError:
            received = b""
        if not hmac.compare_digest(received, self._server_signature):
            raise PgError("the server's SCRAM signature is wrong: it does not know the password")
        self.verified = True


# --- Wire protocol ----------------------------------------------------------------------------


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _cstr(text: str) -> bytes:
    return text.encode() + b"\0"


def error_text(body: bytes) -> str:
    """An ErrorResponse/NoticeResponse body as `SEVERITY: message (SQLSTATE x)`."""
    fields: dict[str, str] = {}
    for item in body.split(b"\0"):
        if item:
            fields[chr(item[0])] = item[1:].decode(errors="replace")
    # 'V' is the untranslated severity (9.6+); 'S' may be localized.
    severity = fields.get("V") or fields.get("S") or "ERROR"
    text = f"{severity}: {fields.get('M', 'unknown error')}"
    if "D" in fields:
        text += f" ({fields['D']})"
    if "C" in fields:
        text += f" [SQLSTATE {fields['C']}]"
    return text


class _Connection:
    """A socket with a deadline: every read gets the time left, so the whole check is bounded."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline

    def arm(self) -> None:
        """Give the next socket operation the time left before the deadline."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise PgError("timed out talking to the database")
        self.sock.settimeout(left)

    def send(self, data: bytes) -> None:
        self.arm()
        self.sock.sendall(data)

    def recv_exact(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            self.arm()
            chunk = self.sock.recv(size - len(chunks))
            if not chunk:
                raise PgError("the database closed the connection")
            chunks += chunk
        return bytes(chunks)

    def read_message(self) -> tuple[bytes, bytes]:
        header = self.recv_exact(5)
        kind, length = header[:1], struct.unpack("!i", header[1:])[0]
        if length < 4 or length > 1 << 24:
            raise PgError(f"malformed message from the server (length {length})")
        body = self.recv_exact(length - 4)
        if kind == b"E":
            raise PgError(error_text(body))
        return kind, body


def _tls_context(params: ConnParams) -> ssl.SSLContext | None:
    """The TLS settings of libpq's sslmode, or None for plaintext (`disable`)."""
    mode = params.sslmode
    if mode not in SSL_MODES:
        raise PgError(f"sslmode {mode!r} is not supported; use one of {', '.join(SSL_MODES)}")
    if mode == "disable":
        return None
    # A bare client context: no CAs loaded, so verify-ca trusts only the given root (libpq).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # PostgreSQL's own minimum
    rootcert = params.sslrootcert
    # libpq: `require` with a root certificate given behaves like verify-ca.
    if mode == "require" and rootcert and os.path.exists(rootcert):
        mode = "verify-ca"
    if mode in ("verify-ca", "verify-full"):
        if not rootcert:
            raise PgError(
                f"sslmode={mode} needs the CA that signed the server's certificate: set "
                "PGSSLROOTCERT to its file, or to 'system' for the system's CAs"
            )
        if rootcert == "system":
            context.load_default_certs()
        else:
            try:
                context.load_verify_locations(cafile=rootcert)
            except (OSError, ssl.SSLError) as exc:
                raise PgError(f"cannot read root certificate {rootcert!r}: {exc}") from None
        context.check_hostname = mode == "verify-full"
        context.verify_mode = ssl.CERT_REQUIRED
    else:
        # require/prefer: encrypted, but the certificate is not checked (libpq semantics).
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _start_tls(conn: _Connection, params: ConnParams) -> None:
    context = _tls_context(params)
    if context is None:
        return
    conn.send(struct.pack("!ii", 8, SSL_REQUEST_CODE))
    answer = conn.recv_exact(1)
    if answer == b"S":
        conn.arm()
        try:
            conn.sock = context.wrap_socket(conn.sock, server_hostname=params.host)
        except ssl.SSLCertVerificationError as exc:
            raise PgError(
                f"the server's certificate failed verification: {exc.verify_message}"
            ) from None
        except ssl.SSLError as exc:
            raise PgError(f"TLS handshake failed: {exc}") from None
        return
    if answer == b"N" and params.sslmode not in TLS_MODES:
        return  # prefer: the server has no TLS, continue in plaintext as libpq does
    if answer == b"N":
        raise PgError(
            f"the server does not support TLS, and sslmode={params.sslmode} requires it; "
            "no plaintext login was attempted"
        )
    raise PgError(f"unexpected answer {answer!r} to the TLS request")


def _authenticate(conn: _Connection, params: ConnParams) -> None:
    scram: ScramClient | None = None
    while True:
        kind, body = conn.read_message()
        if kind != b"R":
            raise PgError(f"expected an authentication request, got message {kind!r}")
        (code,) = struct.unpack("!i", body[:4])
        if code == AUTH_OK:
            # Only after the server proved itself: a server that lets anyone in ("trust"), or
            # skips its SCRAM signature, has not shown it is the database this app should use.
            if scram is None:
                raise PgError(
                    "the server accepted the login without authentication (trust); only "
                    "SCRAM-SHA-256 is allowed: configure scram-sha-256 in pg_hba.conf"
                )
            if not scram.verified:
                raise PgError("the server ended SCRAM without proving it knows the password")
            return
        if code == AUTH_SASL and scram is None:
            mechanisms = [m.decode() for m in body[4:].split(b"\0") if m]
            if SCRAM_MECHANISM not in mechanisms:
                raise PgError(
                    f"the server offers SASL mechanisms {mechanisms}, not {SCRAM_MECHANISM}"
                )
            if not params.password:
                raise PgError("no password supplied (DATABASE_PASSWORD is empty)")
            scram = ScramClient("", params.password)
            first = scram.first_message().encode()
            conn.send(
                _message(b"p", _cstr(SCRAM_MECHANISM) + struct.pack("!i", len(first)) + first)
            )
        elif code == AUTH_SASL_CONTINUE and scram is not None:
            conn.send(_message(b"p", scram.final_message(body[4:].decode()).encode()))
        elif code == AUTH_SASL_FINAL and scram is not None:
            scram.verify_server(body[4:].decode())
        else:
            method = AUTH_NAMES.get(code, f"authentication request {code}")
            raise PgError(
                f"the server asks for {method} authentication; only SCRAM-SHA-256 is allowed: "
                "configure scram-sha-256 in pg_hba.conf and store the password as SCRAM"
            )


def _wait_ready(conn: _Connection) -> None:
    """Skip ParameterStatus, BackendKeyData and notices up to ReadyForQuery."""
    while True:
        kind, _ = conn.read_message()
        if kind == b"Z":
            return


def query_one(params: ConnParams, sql: str) -> str | None:
    """Log in and return the first column of the first row of `sql` (text format)."""
    deadline = time.monotonic() + params.timeout
    try:
        sock = socket.create_connection((params.host, params.port), timeout=params.timeout)
    except OSError as exc:
        raise PgError(f"cannot connect to {params.host}:{params.port}: {exc}") from None
    conn = _Connection(sock, deadline)
    try:
        _start_tls(conn, params)
        startup = b"".join(
            _cstr(k) + _cstr(v)
            for k, v in (
                ("user", params.user),
                ("database", params.database),
                ("application_name", params.application_name),
                ("client_encoding", "UTF8"),
            )
        )
        conn.send(struct.pack("!ii", len(startup) + 9, PROTOCOL_3_0) + startup + b"\0")
        _authenticate(conn, params)
        _wait_ready(conn)
        conn.send(_message(b"Q", _cstr(sql)))
        value: str | None = None
        seen_row = False
        while True:
            kind, body = conn.read_message()
            if kind == b"D" and not seen_row:
                seen_row = True
                (columns,) = struct.unpack("!h", body[:2])
                if columns:
                    (size,) = struct.unpack("!i", body[2:6])
                    value = None if size < 0 else body[6 : 6 + size].decode()
            elif kind == b"Z":
                break
        conn.send(_message(b"X", b""))  # Terminate: a clean goodbye, no "unexpected EOF" log
        return value
    except TimeoutError:
        raise PgError(f"timed out after {params.timeout:g}s talking to the database") from None
    except OSError as exc:
        raise PgError(f"connection to {params.host}:{params.port} failed: {exc}") from None
    finally:
        conn.sock.close()


def server_role(params: ConnParams) -> str:
    """'primary' or 'standby': a SELECT proves the login works, and recovery means standby."""
    in_recovery = query_one(params, "SELECT pg_is_in_recovery()")
    if in_recovery not in ("t", "f"):
        raise PgError(f"unexpected answer to SELECT pg_is_in_recovery(): {in_recovery!r}")
    return "standby" if in_recovery == "t" else "primary"
