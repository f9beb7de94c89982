"""Runs INSIDE the ingress VM of a site: the stage's entry point. Python 3.11 standard library
only, and it imports nothing of stageline (the guest has neither).

It checks every backend's health path every few seconds and forwards each request to the next
healthy backend; with none healthy it answers 503, naming each backend's last answer.
`GET /ingress/status` answers the proxy's own view, for status and operations.

Clients outside the `allow` ranges (the stage's network, its DR replicas' and the stack
file's `ingress.allowedCidrs`) get a 403: on a site the proxy is the stage's ingress firewall.
The VM itself (loopback) is always admitted, for its own health checks.

Usage: python3 ingress_proxy.py CONFIG.json, with {"listen": 80, "backends": ["host:port"],
"healthPath": "/healthz", "interval": 2, "allow": ["10.70.0.0/24"]}.
"""

import http.client
import http.server
import ipaddress
import itertools
import json
import sys
import threading
import time

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade",
}  # fmt: skip


class Backends:
    def __init__(self, backends, health_path, interval):
        self.backends = list(backends)
        self.health_path = health_path
        self.interval = interval
        self.state = {b: "not checked yet" for b in self.backends}
        self.lock = threading.Lock()
        self.turn = itertools.count()

    def check(self, backend):
        host, _, port = backend.rpartition(":")
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=3)
            conn.request("GET", self.health_path)
            status = conn.getresponse().status
            conn.close()
            return "healthy" if status == 200 else f"answered {status}"
        except OSError as exc:
            return f"unreachable ({exc})"

    def watch(self):
        while True:
            found = {b: self.check(b) for b in self.backends}
            with self.lock:
                self.state = found
            time.sleep(self.interval)

    def healthy(self):
        with self.lock:
            return [b for b in self.backends if self.state[b] == "healthy"]

    def pick(self):
        healthy = self.healthy()
        return healthy[next(self.turn) % len(healthy)] if healthy else None

    def status(self):
        with self.lock:
            return dict(self.state)


def admits(allow):
    """client address -> whether it may pass; no `allow` list admits everyone (older configs)."""
    networks = [ipaddress.ip_network(c, strict=False) for c in allow] if allow is not None else None

    def check(address):
        if networks is None:
            return True
        client = ipaddress.ip_address(address)
        mapped = getattr(client, "ipv4_mapped", None)
        client = mapped or client
        return client.is_loopback or any(client in n for n in networks)

    return check


def handler_for(backends, admitted=None):
    admitted = admitted or admits(None)

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def answer(self, status, body, content_type="application/json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def forward(self):
            if not admitted(self.client_address[0]):
                return self.answer(
                    403, {"error": f"{self.client_address[0]} is not in the ingress's ranges"}
                )
            if self.path == "/ingress/status":
                return self.answer(200, {"backends": backends.status()})
            backend = backends.pick()
            if backend is None:
                return self.answer(
                    503, {"error": "no healthy backend", "backends": backends.status()}
                )
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["X-Forwarded-For"] = self.client_address[0]
            host, _, port = backend.rpartition(":")
            try:
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                conn.close()
            except OSError as exc:
                return self.answer(502, {"error": f"backend {backend} failed: {exc}"})
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = forward

    return Proxy


def main(path):
    with open(path) as handle:
        config = json.load(handle)
    backends = Backends(config["backends"], config["healthPath"], config.get("interval", 2))
    threading.Thread(target=backends.watch, daemon=True).start()
    handler = handler_for(backends, admits(config.get("allow")))
    server = http.server.ThreadingHTTPServer(("", int(config["listen"])), handler)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
