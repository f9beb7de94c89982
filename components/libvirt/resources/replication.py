"""A DR replica's hold on its primary, and its recorded role, as resources of the DR stack.

`ReplicationSlot` is the replica's physical slot on the primary site's database: the primary
keeps the WAL the replica has not received, and deleting the DR stack drops the slot so the
primary stops keeping it. `ReplicaPromotion` holds the role that `stageline dr failover`
records: once `active`, it promotes the replica if the failover has not, and it never demotes
a server (a failback rebuilds the other side instead).

Both work inside the guests through the QEMU guest agent, over the site's libvirt connection.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import libvirt
import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from components.libvirt.resources.connection import LibvirtUnreachable, connect, find
from components.libvirt.resources.guest_agent import AgentUnavailable, guest_exec

READY_SECONDS = 600
"""How long to wait for a server to answer (a guest still booting under emulation)."""
DROP_SECONDS = 60
"""How long a slot may stay in use while the replica's server shuts down."""
PSQL = ["-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-qAt"]


class SqlFailed(RuntimeError):
    pass


def run_sql(
    uri: str, domain: str, sql: str, wait: float = READY_SECONDS, database: str = "postgres"
) -> str:
    """Run `sql` as the postgres superuser inside `domain`, waiting for the guest and its
    server to answer; the output, stripped."""
    end = time.monotonic() + wait
    last = ""
    while True:
        with connect(uri) as conn:
            dom = find(lambda: conn.lookupByName(domain))
            if dom is None:
                raise SqlFailed(f"no domain {domain} on {uri}")
            try:
                code, out, err = guest_exec(
                    dom, "/usr/sbin/runuser", [*PSQL, "-d", database, "-c", sql]
                )
                if code == 0:
                    return out.strip()
                last = err.strip() or out.strip()
            except AgentUnavailable as exc:
                last = str(exc)
        if time.monotonic() > end:
            raise SqlFailed(f"{domain} on {uri} did not run the statement: {last}")
        time.sleep(3)


def slot_sql(slot: str) -> str:
    return (
        f"SELECT pg_create_physical_replication_slot('{slot}') WHERE NOT EXISTS "
        f"(SELECT FROM pg_replication_slots WHERE slot_name = '{slot}')"
    )


def _drop_sql(slot: str) -> str:
    return (
        f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        f"WHERE slot_name = '{slot}' AND NOT active"
    )


class SlotProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        run_sql(props["uri"], props["domain"], slot_sql(props["slot"]))
        return CreateResult(f"{props['domain']}/{props['slot']}", props)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("uri", "domain", "slot") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        slot, end = props["slot"], time.monotonic() + DROP_SECONDS
        try:
            while run_sql(
                props["uri"],
                props["domain"],
                f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}'",
                wait=30,
            ) not in ("", "0"):
                run_sql(props["uri"], props["domain"], _drop_sql(slot), wait=30)
                if time.monotonic() > end:
                    raise SqlFailed(f"slot {slot} on {props['domain']} stays in use")
                time.sleep(2)
        except (LibvirtUnreachable, SqlFailed, libvirt.libvirtError) as exc:
            # The primary's site is down (a disaster, or a drill of one): removing the replica
            # must not wait for it. `stageline dr status` lists slots left behind.
            message = (
                f"could not drop replication slot {slot} on {props['domain']} ({exc}); drop it "
                f"there once it is back: SELECT pg_drop_replication_slot('{slot}')"
            )
            try:
                pulumi.log.warn(message)
            except Exception:  # an engine too old to take logs from a dynamic provider
                print(message, file=sys.stderr)


class ReplicationSlot(Resource, module="libvirt", name="ReplicationSlot"):
    def __init__(
        self,
        resource_name: str,
        props: dict[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(SlotProvider(), resource_name, props, opts)


def promote_if_standby(uri: str, domain: str) -> bool:
    """Promote the server unless it already is a primary; whether it promoted it."""
    if run_sql(uri, domain, "SELECT pg_is_in_recovery()") != "t":
        return False
    run_sql(uri, domain, "SELECT pg_promote(true, 60)")
    # Where a failback had it follow lives with the data (postgresql.auto.conf); a primary's
    # data must not carry it on into a clone of it. (ALTER SYSTEM runs one per statement.)
    for setting in ("primary_conninfo", "primary_slot_name"):
        run_sql(uri, domain, f"ALTER SYSTEM RESET {setting}")
    return True


class PromotionProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        if props["role"] == "active":
            promote_if_standby(props["uri"], props["domain"])
        return CreateResult(f"{props['domain']}/role", props)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("uri", "domain") if olds.get(k) != news.get(k)]
        changed = bool(replaces) or olds.get("role") != news.get("role")
        return DiffResult(changes=changed, replaces=replaces)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if news["role"] == "active":
            promote_if_standby(news["uri"], news["domain"])
        return UpdateResult(news)


class ReplicaPromotion(Resource, module="libvirt", name="ReplicaPromotion"):
    def __init__(
        self,
        resource_name: str,
        props: dict[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(PromotionProvider(), resource_name, props, opts)
