"""What a change widens (policy/broadening.py): new inbound openings read through each target's
ingress facts, new IAM grants through its permissions facts; and on a site, the ingress proxy
that enforces the allowed ranges."""

from __future__ import annotations

import functools
import http.client
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest
import yaml

from components.libvirt import ingress_proxy
from components.libvirt.policy import PROXY_CONFIG_PATH, VOLUME
from policy.broadening import widenings
from policy.model import Resource
from stageline.plan.runner import plan_stage
from stageline.policy_gate import widened
from stageline.program import deploy
from stageline.stack_files import read_stack_file

SG = "aws:ec2/securityGroup:SecurityGroup"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STACKS = Path(__file__).resolve().parents[2] / "stacks"


def sg(*rules: tuple[str, int, int]) -> Resource:
    return Resource(
        SG,
        "web",
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": lo, "toPort": hi, "cidrBlocks": [cidr]}
                for cidr, lo, hi in rules
            ]
        },
        urn="urn:pulumi:qa::stageline::aws:ec2/securityGroup:SecurityGroup::web",
    )


@pytest.mark.parametrize(
    ("before", "after", "added"),
    [
        ([("10.0.0.0/16", 80, 80)], [("10.0.0.0/16", 80, 80)], []),
        (
            [("10.0.0.0/16", 80, 80)],
            [("10.0.0.0/16", 80, 80), ("0.0.0.0/0", 80, 80)],
            ["0.0.0.0/0 -> 80"],
        ),
        ([("10.0.0.0/16", 80, 80)], [("10.0.0.0/16", 80, 443)], ["10.0.0.0/16 -> 80-443"]),
        ([("10.0.0.0/16", 80, 443)], [("10.0.1.0/24", 443, 443)], []),
        ([("10.0.0.0/16", 80, 80)], [("10.0.0.0/8", 80, 80)], ["10.0.0.0/8 -> 80"]),
        ([("10.0.0.0/16", 80, 80), ("10.1.0.0/16", 80, 80)], [("10.0.0.0/16", 80, 80)], []),
        ([("10.0.0.0/16", 80, 80)], [("10.0.0.0/16", 22, 22)], ["10.0.0.0/16 -> 22"]),
    ],
    ids=["same", "new source", "wider ports", "narrower", "wider range", "removal", "new port"],
)
def test_ingress_widening(before: list, after: list, added: list[str]) -> None:
    found = widenings(sg(*before), sg(*after))
    assert [a for w in found for a in w.added] == added
    assert all(w.kind == "ingress" for w in found)


def test_every_opening_of_a_new_resource_widens_and_a_deleted_one_does_not() -> None:
    assert [w.added for w in widenings(None, sg(("10.0.0.0/16", 80, 80)))] == [
        ("10.0.0.0/16 -> 80",)
    ]
    assert widenings(sg(("10.0.0.0/16", 80, 80)), None) == []


def role_policy(*statements: dict) -> Resource:
    document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return Resource(ROLE_POLICY, "access", {"policy": document}, urn="urn:x::access")


READ = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}


@pytest.mark.parametrize(
    ("after", "added"),
    [
        ([READ], []),
        (
            [{**READ, "Action": ["s3:GetObject", "s3:PutObject"]}],
            ["Allow s3:PutObject on arn:aws:s3:::b/*"],
        ),
        ([{**READ, "Resource": "*"}], ["Allow s3:GetObject on *"]),
        ([{**READ, "Action": "s3:*"}], ["Allow s3:* on arn:aws:s3:::b/*"]),
        ([], []),
    ],
    ids=["same", "new action", "wider resource", "wildcard", "removed"],
)
def test_iam_widening(after: list[dict], added: list[str]) -> None:
    found = widenings(role_policy(READ), role_policy(*after))
    assert [a for w in found for a in w.added] == added
    assert all(w.kind == "permissions" for w in found)
    if found:
        assert "widens its permissions" in found[0].describe()


def test_iam_grants_compare_equal_however_written() -> None:
    reordered = {"Resource": ["arn:aws:s3:::b/*"], "Action": "s3:GetObject", "Effect": "Allow"}
    assert widenings(role_policy(READ), role_policy(reordered)) == []


def proxy_seed(plan_resources: list) -> dict:
    (seed,) = [
        r
        for r in plan_resources
        if r.type == VOLUME and PROXY_CONFIG_PATH in json.dumps(r.inputs.get("cloudInit"))
    ]
    return seed


def plan_local(tmp_path: Path, allowed: list[str] | None):  # type: ignore[no-untyped-def]
    project = tmp_path / ("wide" if allowed else "narrow")
    folder = project / "stacks"
    shutil.copytree(STACKS, folder)
    (project / "examples").symlink_to(STACKS.parent / "examples")
    path = folder / "Pulumi.local.yaml"
    data = yaml.safe_load(path.read_text())
    if allowed:
        data["config"]["stageline:ingress"] = {"allowedCidrs": allowed}
    path.write_text(yaml.safe_dump(data))
    plan = plan_stage(read_stack_file(path), functools.partial(deploy, folder, offline=True))
    assert plan.ok, plan.error
    return proxy_seed(plan.resources)


def test_allowed_cidrs_widen_a_site_ingress(tmp_path: Path) -> None:
    narrow, wide = plan_local(tmp_path, None), plan_local(tmp_path, ["10.99.0.0/24"])
    found = widened(VOLUME, wide.urn, narrow.inputs, wide.inputs)
    assert [w.added for w in found] == [("10.99.0.0/24 -> 80",)], found
    assert widened(VOLUME, wide.urn, wide.inputs, narrow.inputs) == []
    assert widened(VOLUME, wide.urn, narrow.inputs, narrow.inputs) == []


def test_the_proxy_admits_only_its_ranges() -> None:
    admitted = ingress_proxy.admits(["10.70.0.0/24", "10.99.0.0/24"])
    assert admitted("10.70.0.5") and admitted("10.99.0.200")
    assert not admitted("10.71.0.5") and not admitted("192.168.1.1")
    assert admitted("127.0.0.1"), "the VM's own health checks come over loopback"
    assert admitted("::ffff:10.70.0.9") and not admitted("::ffff:10.72.0.9")
    assert ingress_proxy.admits(None)("8.8.8.8"), "a config without a list admits everyone"


def test_the_proxy_answers_403_outside_its_ranges() -> None:
    backends = ingress_proxy.Backends([], "/healthz", 2)
    handler = ingress_proxy.handler_for(backends, lambda address: False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        conn.request("GET", "/healthz")
        answer = conn.getresponse()
        assert answer.status == 403
        assert "not in the ingress's ranges" in json.loads(answer.read())["error"]
    finally:
        server.shutdown()


def rule_sg(*rules: dict) -> Resource:
    return Resource(SG, "web", {"ingress": list(rules)}, urn="urn:pulumi:qa::stageline::x::web")


def tcp(cidr: str, lo: int, hi: int) -> dict:
    return {"protocol": "tcp", "fromPort": lo, "toPort": hi, "cidrBlocks": [cidr]}


def every_port(cidr: str) -> dict:
    return {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": [cidr]}


@pytest.mark.parametrize(
    ("before", "after", "added"),
    [
        ([tcp("10.0.0.0/16", 80, 443)], [tcp("10.0.0.0/16", 443, 443)], []),
        ([tcp("10.0.0.0/16", 80, 443)], [tcp("10.0.0.0/16", 80, 80)], []),
        ([tcp("10.0.0.0/16", 80, 443)], [tcp("10.0.0.0/16", 79, 80)], ["10.0.0.0/16 -> 79-80"]),
        ([tcp("10.0.0.0/16", 80, 443)], [tcp("10.0.0.0/16", 443, 444)], ["10.0.0.0/16 -> 443-444"]),
        ([every_port("10.0.0.0/16")], [tcp("10.0.0.0/16", 22, 22)], []),
        ([tcp("10.0.0.0/16", 80, 80), every_port("10.0.0.0/16")], [tcp("10.0.0.0/16", 22, 22)], []),
        ([tcp("10.0.0.0/16", 1, 65535)], [every_port("10.0.0.0/16")], ["10.0.0.0/16 -> all ports"]),
        ([tcp("10.0.0.0/16", 80, 80)], [tcp("10.0.0.5/16", 80, 80)], []),
        ([tcp("10.0.0.5/16", 80, 80)], [tcp("10.0.1.0/24", 80, 80)], []),
        ([tcp("1.1.1.1/32", 80, 80), tcp("10.0.0.0/16", 80, 80)], [tcp("10.0.1.0/24", 80, 80)], []),
        ([tcp("10.0.0.0/16", 80, 80)], [tcp("10.1.0.0/16", 80, 80)], ["10.1.0.0/16 -> 80"]),
        ([tcp("::/0", 80, 80)], [tcp("10.0.0.0/16", 80, 80)], ["10.0.0.0/16 -> 80"]),
        ([tcp("Internet", 80, 80)], [tcp("Internet", 80, 80)], []),
        ([tcp("VirtualNetwork", 80, 80)], [tcp("Internet", 80, 80)], ["Internet -> 80"]),
        ([tcp("10.0.0.0/8", 80, 80)], [tcp("Internet", 80, 80)], ["Internet -> 80"]),
    ],
    ids=[
        "inside the range",
        "its low end",
        "below it",
        "above it",
        "all ports cover one",
        "all ports beside one port",
        "all ports are wider than a range",
        "a host address inside",
        "inside a range written with host bits",
        "covered by a later rule",
        "a sibling range",
        "another IP version",
        "same tag",
        "another tag",
        "a tag is not a network",
    ],
)
def test_ingress_coverage(before: list[dict], after: list[dict], added: list[str]) -> None:
    found = widenings(rule_sg(*before), rule_sg(*after))
    assert [a for w in found for a in w.added] == added


def test_a_new_policy_grants_everything_it_holds_and_says_so() -> None:
    (found,) = widenings(None, role_policy(READ))
    assert found.added == ("Allow s3:GetObject on arn:aws:s3:::b/*",)
    assert found.describe() == (
        f"{ROLE_POLICY} access widens its permissions: Allow s3:GetObject on arn:aws:s3:::b/*"
    )
    (opened,) = widenings(None, rule_sg(tcp("10.0.0.0/16", 80, 80), tcp("10.9.0.0/16", 22, 22)))
    assert opened.describe() == f"{SG} web widens its ingress: 10.0.0.0/16 -> 80; 10.9.0.0/16 -> 22"
    assert opened.urn == "urn:pulumi:qa::stageline::x::web" and opened.type == SG


def test_a_type_without_facts_widens_nothing() -> None:
    other = Resource("random:index/randomPassword:RandomPassword", "pw", {"length": 20})
    assert widenings(None, other) == []


def test_the_facts_given_are_the_ones_read() -> None:
    from policy.facts import NO_POLICY

    assert widenings(None, rule_sg(tcp("10.0.0.0/16", 80, 80)), NO_POLICY) == []
