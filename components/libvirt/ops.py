"""Disaster-recovery operations on sites (components/dr_ops.py), through each site's libvirt
connection: SQL and HTTP run inside the guests through the QEMU guest agent, and the failover
record is changed in the networks' DNS. No network path to a guest is needed.

Names follow the template: a stack's first database server is `<stack>-db-0`, its proxy
`<stack>-ingress`; each site is reached at its contract's `network.site` URI.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

import libvirt

from components.dr_ops import (
    DrSides,
    IngressHealth,
    Marker,
    OperationFailed,
    ReplicationState,
    StackView,
    health_of,
)
from components.libvirt.database import SLOT, slot_name
from components.libvirt.resources import dns_host
from components.libvirt.resources.connection import LibvirtUnreachable, connect, find
from components.libvirt.resources.guest_agent import AgentUnavailable, guest_exec
from components.libvirt.resources.replication import (
    SqlFailed,
    promote_if_standby,
    run_sql,
    slot_sql,
)
from components.libvirt.storage import OBJECTS
from components.routing import RECORD

MARKERS = "stageline_drill_markers"
MARKER_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
ASK_SECONDS = 20.0
"""How long one question waits for a guest: status must answer while a side is down."""
HEALTH_PROBE = (
    "import json, urllib.request, urllib.error\n"
    "try:\n"
    "    r = urllib.request.urlopen('http://127.0.0.1/healthz', timeout=8)\n"
    "    print(json.dumps({'status': r.status, 'body': r.read().decode()}))\n"
    "except urllib.error.HTTPError as e:\n"
    "    print(json.dumps({'status': e.code, 'body': e.read().decode()}))\n"
    "except OSError as e:\n"
    "    print(json.dumps({'status': None, 'body': str(e)}))\n"
)


def _site(view: StackView) -> str:
    return str(view.outputs["network"]["site"])


def _db(view: StackView) -> str:
    return f"{view.stack}-db-0"


def _sql(view: StackView, sql: str, database: str = "postgres") -> str:
    try:
        return run_sql(_site(view), _db(view), sql, wait=ASK_SECONDS, database=database)
    except (SqlFailed, LibvirtUnreachable, libvirt.libvirtError) as exc:
        raise OperationFailed(f"{view.stack}: {exc}") from exc


class LibvirtOperations:
    def replication(self, sides: DrSides) -> ReplicationState:
        replica = sides.replica
        row = _sql(
            replica,
            "SELECT pg_is_in_recovery(), coalesce((SELECT status FROM pg_stat_wal_receiver), '')",
        ).split("|")
        standby, receiver = row[0] == "t", row[1] if len(row) > 1 else ""
        lag, detail = None, receiver or ("promoted" if not standby else "not receiving")
        if standby:
            lag, why = self._lag(sides)
            detail = f"{detail}; {why}" if why else detail
        return ReplicationState(
            role="standby" if standby else "active",
            streaming=receiver == "streaming",
            lag_seconds=lag,
            newest_object_age_seconds=self._copy_age(replica),
            detail=detail,
        )

    def _lag(self, sides: DrSides) -> tuple[float | None, str]:
        """Seconds of changes the replica has not replayed, asked of the primary (only it knows
        what it has written); unknown while the primary cannot be asked."""
        slot = slot_name(sides.replica.stack)
        try:
            row = _sql(
                sides.primary,
                "SELECT coalesce(extract(epoch FROM replay_lag), 0), "
                "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) "
                f"FROM pg_stat_replication WHERE application_name = '{slot}'",
            )
        except OperationFailed as exc:
            return None, f"lag unknown: the primary does not answer ({exc})"
        if not row:
            return None, f"lag unknown: {sides.primary.stack} has no sender for slot {slot}"
        seconds, behind = (float(v) for v in row.split("|"))
        # Caught up: replay_lag is empty once the standby has replayed everything.
        return (0.0 if behind <= 0 else seconds), f"{int(behind)} bytes behind"

    def _copy_age(self, view: StackView) -> float | None:
        """Age of the replica's copy of the primary's objects (a site copies them when the DR
        stage is built; see components/libvirt/storage.py)."""
        try:
            with connect(_site(view)) as conn:
                pool = find(
                    lambda: conn.storagePoolLookupByName(str(view.outputs["storage"]["bucket"]))
                )
                vol = find(lambda: pool.storageVolLookupByName(OBJECTS)) if pool else None
                if vol is None:
                    return None
                mtime = ET.fromstring(vol.XMLDesc(0)).findtext("target/timestamps/mtime")
        except (LibvirtUnreachable, libvirt.libvirtError):
            return None
        return max(0.0, time.time() - float(mtime)) if mtime else None

    def promote(self, sides: DrSides) -> None:
        try:
            promote_if_standby(_site(sides.replica), _db(sides.replica))
        except (SqlFailed, LibvirtUnreachable, libvirt.libvirtError) as exc:
            raise OperationFailed(f"{sides.replica.stack}: promotion failed: {exc}") from exc
        end = time.monotonic() + 60
        while _sql(sides.replica, "SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > end:
                raise OperationFailed(
                    f"{sides.replica.stack}: still a standby 60 s after promotion"
                )
            time.sleep(1)

    def scale(self, view: StackView, count: int) -> None:
        # A site's app VMs are resources: converging the stack (role active) makes them.
        return None

    def route(self, sides: DrSides, to: StackView) -> None:
        if not sides.zone:
            return
        name = f"{RECORD}.{sides.zone}"
        address = str(to.outputs["ingress"]["address"])
        for side in (sides.primary, sides.replica):
            try:
                dns_host.point(_site(side), str(side.outputs["network"]["id"]), name, address)
            except (LibvirtUnreachable, libvirt.libvirtError, RuntimeError) as exc:
                if side.stack == to.stack:
                    raise OperationFailed(f"{side.stack}: cannot set {name}: {exc}") from exc
                # The side being left may be the one that is down: its record follows later.

    def ingress_health(self, view: StackView) -> IngressHealth:
        domain = f"{view.stack}-ingress"
        try:
            with connect(_site(view)) as conn:
                dom = find(lambda: conn.lookupByName(domain))
                if dom is None or not dom.isActive():
                    return IngressHealth(False, f"{domain} is not running")
                code, out, err = guest_exec(dom, "/usr/bin/python3", ["-c", HEALTH_PROBE])
        except (LibvirtUnreachable, libvirt.libvirtError, AgentUnavailable) as exc:
            return IngressHealth(False, f"{domain} cannot be asked: {exc}")
        if code != 0:
            return IngressHealth(False, f"{domain}: {err.strip()}")
        answer: dict[str, Any] = json.loads(out)
        if answer["status"] is None:
            return IngressHealth(False, f"{domain}: {answer['body']}")
        return health_of(int(answer["status"]), answer["body"])

    def rebuild_replica(self, sides: DrSides) -> None:
        """Make the old primary (`sides.replica`) a standby of the active side: its cluster
        diverged at the failover, so it is cloned again (HA standby and all)."""
        _follow(sides.primary, sides.replica)

    def switchover(self, sides: DrSides) -> None:
        """Planned, no data loss: `sides.primary` (the active side) stops cleanly, which hands
        its standby every change; the standby takes over and the old side follows it again."""
        active, standby = sides.primary, sides.replica
        version = str(active.outputs["database"]["engineVersion"])
        _shell(active, _db(active), f"systemctl stop postgresql@{version}-main")
        done = _shell(
            active,
            _db(active),
            f"/usr/lib/postgresql/{version}/bin/pg_controldata "
            f"/var/lib/postgresql/{version}/main | sed -n 's/^Latest checkpoint location: *//p'",
        ).strip()
        end = time.monotonic() + 120
        while _sql(standby, f"SELECT pg_last_wal_replay_lsn() >= '{done}'::pg_lsn") != "t":
            if time.monotonic() > end:
                raise OperationFailed(
                    f"{standby.stack} did not replay {active.stack}'s last change ({done}) in "
                    f"120 s; {active.stack} is stopped: start it to keep serving from it"
                )
            time.sleep(1)
        promote_if_standby(_site(standby), _db(standby))
        _follow(standby, active)

    def write_marker(self, view: StackView, name: str) -> Marker:
        _check(name)
        epoch = _sql(
            view,
            f"CREATE TABLE IF NOT EXISTS {MARKERS} (name text PRIMARY KEY, "
            "written_at timestamptz NOT NULL DEFAULT clock_timestamp());"
            f"INSERT INTO {MARKERS} (name) VALUES ('{name}') ON CONFLICT (name) DO UPDATE "
            "SET written_at = clock_timestamp() RETURNING extract(epoch FROM written_at)",
            database="app",
        )
        # Make the row's WAL leave the primary now, not at the next segment switch.
        _sql(view, "SELECT pg_switch_wal()")
        return Marker(name, _at(epoch.splitlines()[-1]), {"row": True})

    def read_marker(self, view: StackView, name: str) -> Marker | None:
        _check(name)
        if _sql(view, f"SELECT to_regclass('{MARKERS}') IS NOT NULL", database="app") != "t":
            return None
        found = _sql(
            view,
            f"SELECT extract(epoch FROM written_at) FROM {MARKERS} WHERE name = '{name}'",
            database="app",
        )
        return Marker(name, _at(found), {"row": True}) if found else None


REBUILD_SECONDS = 900.0
"""How long one server may take to clone its upstream."""


def _shell(view: StackView, domain: str, command: str, timeout: float = 60.0) -> str:
    try:
        with connect(_site(view)) as conn:
            dom = find(lambda: conn.lookupByName(domain))
            if dom is None:
                raise OperationFailed(f"{view.stack}: no domain {domain}")
            code, out, err = guest_exec(dom, "/bin/sh", ["-c", command], timeout=timeout)
    except (LibvirtUnreachable, libvirt.libvirtError, AgentUnavailable) as exc:
        raise OperationFailed(f"{view.stack}: {domain} cannot be asked: {exc}") from exc
    if code != 0:
        raise OperationFailed(f"{view.stack}: {domain}: {(err or out).strip()[-400:]}")
    return out


def reclone_script(version: str, host: str, slot: str) -> str:
    """Replace the server's cluster with a fresh clone of `host`'s, following it."""
    data = f"/var/lib/postgresql/{version}/main"
    conninfo = (
        f"host={host} port=5432 user=stageline passfile=/etc/stageline/pgpass "
        f"sslmode=require application_name={slot}"
    )
    return (
        "set -e\n"
        f"systemctl stop postgresql@{version}-main\n"
        f"rm -rf {data} && install -d -o postgres -g postgres /var/lib/postgresql/{version}\n"
        "runuser -u postgres -- env PGPASSFILE=/etc/stageline/pgpass PGSSLMODE=require "
        f"pg_basebackup -h {host} -U stageline -D {data} -X stream -S {slot} --checkpoint=fast\n"
        # postgresql.conf is the seed's, rewritten at boot: where to follow lives with the data,
        # replacing what the clone brought from its upstream's.
        f"sed -i '/^primary_conninfo/d; /^primary_slot_name/d' {data}/postgresql.auto.conf\n"
        f'printf "%s\\n" "primary_conninfo = \'{conninfo}\'" '
        f"\"primary_slot_name = '{slot}'\" >> {data}/postgresql.auto.conf\n"
        f"touch {data}/standby.signal\n"
        f"chown postgres:postgres {data}/standby.signal {data}/postgresql.auto.conf\n"
        f"systemctl start postgresql@{version}-main\n"
    )


def _follow(upstream: StackView, follower: StackView) -> None:
    """Clone `follower`'s database servers from `upstream`'s first server, through a slot of
    the follower's on it; its HA standby (if any) then cascades from it."""
    version = str(upstream.outputs["database"]["engineVersion"])
    host = str(upstream.outputs["database"]["endpoint"])
    slot = slot_name(follower.stack)
    try:
        following = _sql(
            follower,
            "SELECT pg_is_in_recovery() AND coalesce((SELECT status = 'streaming' AND "
            f"conninfo LIKE '%host={host} %' FROM pg_stat_wal_receiver), false)",
        )
    except OperationFailed:
        following = "f"  # stopped (a switchover stops it first): it is cloned afresh
    if following == "t":
        return
    _sql(upstream, slot_sql(slot))
    _shell(follower, _db(follower), reclone_script(version, host, slot), timeout=REBUILD_SECONDS)
    standby = f"{follower.stack}-db-1"
    with connect(_site(follower)) as conn:
        has_standby = find(lambda: conn.lookupByName(standby)) is not None
    if has_standby:
        first = str(follower.outputs["database"]["endpoint"])
        _sql(follower, slot_sql(SLOT))
        _shell(follower, standby, reclone_script(version, first, SLOT), timeout=REBUILD_SECONDS)


def _check(name: str) -> None:
    if not MARKER_NAME.fullmatch(name):
        raise OperationFailed(f"marker name {name!r} must be lowercase letters, digits and -")


def _at(epoch: str) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC)


OPERATIONS = LibvirtOperations()
