"""Runs INSIDE a guest, sent by components/libvirt/health.py through the QEMU guest agent
(`python3 -c SOURCE ROLE`); prints one JSON object. Python 3.11 standard library only, and it
imports nothing of stageline: the guest has neither.

It reads the setup's own markers (components/libvirt/guest_script.py), cloud-init's result,
and for the role asks the application (GET /healthz on its port) or PostgreSQL (its role and
replication) from inside the guest, so no network path to the guest is needed.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

STATE_DIR = "/var/lib/stageline"
RESULT = "/run/cloud-init/result.json"
OUTPUT_LOG = "/var/log/cloud-init-output.log"
APP_ENV = "/etc/stageline/app.env"
INGRESS_PORT = 80


def read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def tail(path, lines):
    text = read(path) or ""
    return "\n".join(text.splitlines()[-lines:])


def setup():
    failed = read(f"{STATE_DIR}/failed-step")
    if failed is not None:
        return {"setup": "failed", "step": failed, "detail": tail(OUTPUT_LOG, 8)}
    if os.path.exists(f"{STATE_DIR}/setup-done"):
        return {"setup": "done"}
    result = read(RESULT)
    if result is not None:
        # cloud-init finished but the setup never did: a module before it failed.
        errors = json.loads(result).get("v1", {}).get("errors", [])
        step = "cloud-init: " + "; ".join(errors) if errors else "cloud-init ended before setup"
        return {"setup": "failed", "step": step, "detail": tail(OUTPUT_LOG, 8)}
    return {"setup": "running", "step": read(f"{STATE_DIR}/step") or "cloud-init"}


def app(port=None):
    env = dict(line.split("=", 1) for line in (read(APP_ENV) or "").splitlines() if "=" in line)
    url = f"http://127.0.0.1:{port or env.get('PORT', '8080')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=8) as response:
            return {"appStatus": response.status, "app": json.loads(response.read())}
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return {"appStatus": exc.code, "app": json.loads(body)}
        except ValueError:
            return {"appStatus": exc.code, "problem": f"/healthz answered {exc.code}"}
    except (OSError, ValueError) as exc:
        return {"problem": f"/healthz did not answer ({exc})"}


def sql(query):
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-XAtq", "-F", "|", "-c", query],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"psql exited {done.returncode}")
    return [line.split("|") for line in done.stdout.splitlines() if line]


def database():
    try:
        standby = sql("SELECT pg_is_in_recovery()")[0][0] == "t"
        if standby:
            receiver = sql("SELECT status FROM pg_stat_wal_receiver")
            lag = sql(
                "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()),"
                " extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
            )[0]
            status = receiver[0][0] if receiver else "not receiving"
            state = {
                "role": "standby",
                "replication": status,
                "lagBytes": int(float(lag[0])) if lag[0] else None,
                "lagSeconds": float(lag[1]) if lag[1] else None,
            }
            return {"database": state, **({} if status == "streaming" else {"problem": status})}
        rows = sql(
            "SELECT application_name, state,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication"
        )
        lags = [int(float(r[2])) for r in rows if r[2]]
        return {
            "database": {
                "role": "primary",
                "replication": ", ".join(f"{r[0]} {r[1]}" for r in rows) or "no standbys",
                "lagBytes": max(lags) if lags else None,
            }
        }
    except (RuntimeError, OSError, subprocess.SubprocessError, IndexError, ValueError) as exc:
        return {"problem": f"PostgreSQL does not answer ({exc})"}


def main(role):
    report = setup()
    if report["setup"] == "done":
        if role == "app":
            report.update(app())
        elif role == "database":
            report.update(database())
        elif role == "ingress":
            # The app's answer through the proxy: 503 while no backend is healthy.
            report.update(app(port=INGRESS_PORT))
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
