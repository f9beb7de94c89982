"""A DR stage on sites, planned offline from its primary's planned contract: onprem-dr on dc2
replicating onprem on dc1. Asserts on the registered resources' inputs (URNs in messages)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
import yaml

from components.libvirt.addressing import fixed_address, fixed_hosts, mac_of
from components.libvirt.database import setup_steps, slot_name
from components.libvirt.ingress_proxy import Backends, handler_for
from components.libvirt.resources.dns_host import _entry
from stageline.plan.recorder import PlannedResource
from stageline.plan.runner import StagePlan, unwrap_secrets

Plan = Callable[..., StagePlan]


def of_type(plan: StagePlan, suffix: str) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type.endswith(suffix)]


def db_seeds(plan: StagePlan) -> dict[str, PlannedResource]:
    """The database VMs' seeds, by hostname."""
    found = {}
    for r in of_type(plan, "libvirt:Volume"):
        if r.name.startswith(f"{plan.stack}-database-") and r.name.endswith("-cidata"):
            found[unwrap_secrets(r.inputs["cloudInit"])["hostname"]] = r
    return found


def seed_files(resource: PlannedResource) -> dict[str, str]:
    text = unwrap_secrets(resource.inputs["cloudInit"])["userData"]
    config = yaml.safe_load(text.split("\n", 1)[1])
    return {f["path"]: f["content"] for f in config["write_files"]}


def test_the_replica_streams_from_the_primary_site_through_its_own_slot(plan_edited: Plan) -> None:
    plan = plan_edited("onprem-dr", {})
    assert plan.ok, plan.error
    (slot,) = of_type(plan, "libvirt:ReplicationSlot")
    # The slot lives on the primary's first server, reached at the primary's site.
    assert slot.inputs["domain"] == "onprem-db-0", slot.urn
    assert slot.inputs["slot"] == "dr_onprem_dr", slot.urn
    assert "kvm01.dc1.internal" in slot.inputs["uri"], slot.urn
    seeds = db_seeds(plan)
    first = seed_files(seeds["onprem-dr-db-0"])
    conf = first["/etc/stageline/postgresql.conf"]
    # onprem's database has the fixed address 10.70.0.2 in onprem's 10.70.0.0/24.
    assert "primary_conninfo = 'host=10.70.0.2 " in conf, seeds["onprem-dr-db-0"].urn
    assert "primary_slot_name = 'dr_onprem_dr'" in conf
    assert "pg_basebackup -h 10.70.0.2 " in first["/etc/stageline/db-setup.sh"]
    # Its HA standby cascades from it, with the slot the first server keeps for it.
    second = seed_files(seeds["onprem-dr-db-1"])["/etc/stageline/postgresql.conf"]
    assert "primary_conninfo = 'host=10.71.0.2 " in second
    assert "pg_create_physical_replication_slot('standby_1')" in first["/etc/stageline/db-setup.sh"]
    # The VM waits for the slot.
    (domain,) = [
        r for r in of_type(plan, "libvirt:Domain") if r.name == "onprem-dr-database-0-domain"
    ]
    assert domain.inputs["mac"] == mac_of("onprem-dr-db-0"), domain.urn


def test_the_replica_serves_with_the_primarys_password(plan_edited: Plan) -> None:
    primary = plan_edited("onprem", {})
    replica = plan_edited("onprem-dr", {})
    assert primary.ok and replica.ok, (primary.error, replica.error)
    password = unwrap_secrets(primary.exports["replication"])["password"]
    assert password, primary.exports
    app = next(
        r for r in of_type(replica, "libvirt:Volume") if r.name == "onprem-dr-compute-0-cidata"
    )
    env = seed_files(app)["/etc/stageline/app.env"]
    assert f"DATABASE_PASSWORD={password}\n" in env, app.urn
    assert "DATABASE_HOST=10.71.0.2\n" in env, app.urn


def test_the_seed_does_not_depend_on_the_recorded_role(plan_edited: Plan) -> None:
    standby = plan_edited("onprem-dr", {})
    active = plan_edited("onprem-dr", {"onprem-dr": {"disasterRecovery.role": "active"}})
    assert standby.ok and active.ok, (standby.error, active.error)

    def texts(plan: StagePlan) -> dict[str, Any]:
        return {h: unwrap_secrets(r.inputs["cloudInit"]) for h, r in db_seeds(plan).items()}

    # A failover recorded as active must not make new database VMs...
    assert texts(standby) == texts(active) and len(texts(active)) == 2
    # ...the role resource carries it, and promotes.
    (role,) = of_type(active, "libvirt:ReplicaPromotion")
    assert role.inputs["role"] == "active" and role.inputs["domain"] == "onprem-dr-db-0", role.urn
    # Active: the group runs the primary's minCount (2), not its own (1).
    apps = [r for r in of_type(active, "libvirt:Domain") if "-app-" in r.inputs["name"]]
    assert len(apps) == 2, [r.urn for r in apps]


def test_a_pilot_light_runs_no_app_until_failover(plan_edited: Plan) -> None:
    plan = plan_edited("onprem-dr", {"onprem-dr": {"disasterRecovery.mode": "pilot-light"}})
    assert plan.ok, plan.error
    apps = [r for r in of_type(plan, "libvirt:Domain") if "-app-" in r.inputs["name"]]
    assert apps == [], [r.urn for r in apps]
    # The group and its entry point exist: a failover only adds VMs behind the proxy.
    assert [r.inputs["name"] for r in of_type(plan, "libvirt:Domain") if "ingress" in r.name] == [
        "onprem-dr-ingress"
    ]


def test_data_is_protected_and_copied_from_the_primary(plan_edited: Plan) -> None:
    plan = plan_edited("onprem-dr", {})
    assert plan.ok, plan.error
    data = [r for r in of_type(plan, "libvirt:Volume") if r.name.endswith("-data")]
    objects = [r for r in of_type(plan, "libvirt:Volume") if r.name.endswith("-objects")]
    for r in [*data, *objects]:
        assert r.protect and r.retain_on_delete, r.urn
    (copy,) = objects
    assert copy.inputs["copyFrom"]["pool"] == "onprem-data", copy.urn
    assert "kvm01.dc1.internal" in copy.inputs["copyFrom"]["uri"], copy.urn


def test_failover_routing_names_both_sites_and_follows_the_role(plan_edited: Plan) -> None:
    standby = plan_edited("onprem-dr", {})
    active = plan_edited("onprem-dr", {"onprem-dr": {"disasterRecovery.role": "active"}})
    for plan, address in ((standby, "10.70.0.4"), (active, "10.71.0.4")):
        assert plan.ok, plan.error
        records = of_type(plan, "libvirt:DnsHost")
        assert sorted(r.name for r in records) == [
            "onprem-dr-routing-onprem",
            "onprem-dr-routing-onprem-dr",
        ]
        for record in records:
            assert record.inputs["hostname"] == "app.onprem.internal", record.urn
            assert record.inputs["ip"] == address, record.urn
    without = plan_edited("onprem-dr", {"onprem-dr": {"disasterRecovery.dnsZone": None}})
    assert without.ok, without.error
    assert of_type(without, "libvirt:DnsHost") == []


def test_the_primary_admits_its_replicas_and_their_drills(plan_edited: Plan) -> None:
    plan = plan_edited("onprem", {})
    assert plan.ok, plan.error
    seed = next(r for r in of_type(plan, "libvirt:Volume") if r.name == "onprem-database-0-cidata")
    hba = seed_files(seed)["/etc/stageline/pg_hba.conf"]
    for cidr in ("10.71.0.0/24", "10.72.0.0/24"):
        assert f"hostssl replication stageline {cidr} scram-sha-256" in hba, hba
        assert f"hostssl postgres stageline {cidr} scram-sha-256" in hba, hba
    # ...for replication and the slot check only: not the application's database.
    assert "hostssl all all 10.71.0.0/24" not in hba, hba


def test_a_primary_without_the_replica_keys_is_refused_by_name(plan_edited: Plan) -> None:
    old_contract = {"schemaVersion": "1.0", "release": {"appVersion": "1", "artifact": "a",
                    "templateRevision": "t"}, "region": "dc1"}  # fmt: skip
    plan = plan_edited("onprem-dr", {}, given={"onprem": old_contract})
    assert not plan.ok
    message = str(plan.error)
    assert "DR stage 'onprem-dr' replicates 'onprem'" in message, message
    assert "network.site" in message and "database.resourceId" in message, message
    assert "replication.password" in message, message
    assert "run `stageline up onprem`" in message, message
    assert plan.resources == [] or all(r.type.startswith("pulumi:") for r in plan.resources)


def test_fixed_addresses_follow_the_stage_range() -> None:
    assert fixed_address("10.70.0.0/24", "db-0") == "10.70.0.2"
    assert fixed_address("10.70.0.0/24", "db-1") == "10.70.0.3"
    assert fixed_address("10.70.0.0/24", "ingress") == "10.70.0.4"
    hosts = fixed_hosts("s", "192.168.1.0/24")
    assert [h["name"] for h in hosts] == ["s-db-0", "s-db-1", "s-ingress"]
    macs = [h["mac"] for h in hosts]
    assert len(set(macs)) == 3 and all(m.startswith("52:54:00:") for m in macs)
    assert mac_of("s-db-0") == mac_of("s-db-0") != mac_of("t-db-0")


def test_slot_names_are_valid_identifiers() -> None:
    assert slot_name("onprem-dr") == "dr_onprem_dr"
    assert slot_name("onprem-dr-drill-1a2b3c") == "dr_onprem_dr_drill_1a2b3c"


def test_a_promoted_server_is_never_cloned_again_or_marked_a_standby() -> None:
    from components.libvirt.database import Upstream

    clone = next(
        s
        for s in setup_steps("15", "app", Upstream("10.70.0.2", "dr_x"))
        if s.name == "clone the primary"
    )
    # standby.signal is made only inside the "empty volume" branch, with the fresh clone.
    text = clone.commands
    assert text.index("touch /var/lib/postgresql/15/main/standby.signal") < text.index("\nfi")
    assert text.startswith("if [ ! -f /var/lib/postgresql/15/main/PG_VERSION ]; then")


def test_dns_entries_are_libvirt_host_elements() -> None:
    assert _entry("10.71.0.4", "app.z.internal") == (
        '<host ip="10.71.0.4"><hostname>app.z.internal</hostname></host>'
    )


# --- the ingress proxy, on loopback ------------------------------------------------------


class App(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        body = json.dumps({"status": self.status, "backend": self.server.server_port}).encode()
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Sick(App):
    status = 503


@pytest.fixture
def proxy() -> Iterator[tuple[str, Backends, list[ThreadingHTTPServer]]]:
    good, sick = serve(App), serve(Sick)
    backends = Backends(
        [f"127.0.0.1:{good.server_port}", f"127.0.0.1:{sick.server_port}", "127.0.0.1:1"],
        "/healthz",
        0.1,
    )
    backends.state = {b: backends.check(b) for b in backends.backends}
    front = serve(handler_for(backends))
    yield f"http://127.0.0.1:{front.server_port}", backends, [good, sick, front]
    for server in (good, sick, front):
        server.shutdown()


def test_the_proxy_sends_requests_only_to_healthy_backends(proxy: Any) -> None:
    url, _, (good, _, _) = proxy
    for _ in range(4):
        with urlopen(f"{url}/healthz", timeout=5) as answer:
            assert answer.status == 200
            assert json.loads(answer.read())["backend"] == good.server_port
    status = json.loads(urlopen(f"{url}/ingress/status", timeout=5).read())["backends"]
    assert status[f"127.0.0.1:{good.server_port}"] == "healthy"
    assert any(v == "answered 503" for v in status.values()), status
    assert any(v.startswith("unreachable") for v in status.values()), status


def test_the_proxy_answers_503_with_no_healthy_backend(proxy: Any) -> None:
    url, backends, (good, _, _) = proxy
    good.shutdown()
    good.server_close()
    backends.state = {b: backends.check(b) for b in backends.backends}
    with pytest.raises(HTTPError) as refused:
        urlopen(f"{url}/healthz", timeout=5)
    assert refused.value.code == 503
    assert json.loads(refused.value.read())["error"] == "no healthy backend"


def test_the_proxy_module_is_standard_library_only() -> None:
    source = (
        Path(__file__).resolve().parents[2] / "components/libvirt/ingress_proxy.py"
    ).read_text()
    assert "stageline" not in source.split('"""', 2)[2].split("def ")[0]
