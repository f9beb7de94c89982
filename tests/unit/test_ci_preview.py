"""The pieces of `preview --all` that need no engine: engine events as changes, the approval
hash, previews against planned upstream outputs, which stages the engine can preview."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from stageline.ci.approval import differences, digest, stage_digest
from stageline.ci.engine_preview import ChangeCollector
from stageline.ci.preview_all import missing_plugins, needed_plugins
from stageline.ci.report import ReleaseChange, ResourceChange, StageReport
from stageline.plan.recorder import PlannedResource
from stageline.plan.runner import StagePlan
from stageline.policy_gate import holds_data
from stageline.promotion import PLANNED_UPSTREAM_ENV, PromotionError, planned_upstream

DB = "urn:pulumi:prod::stageline::stageline:database:AwsDatabase$aws:rds/instance:Instance::db"
SG = "urn:pulumi:prod::stageline::aws:ec2/securityGroup:SecurityGroup::sg"


def event(op: str, urn: str, **meta: Any) -> auto.EngineEvent:
    typ = urn.split("::")[2].rsplit("$", 1)[-1]
    body = {"op": op, "urn": urn, "type": typ, "provider": "", **meta}
    return auto.EngineEvent.from_json(
        {"sequence": 1, "timestamp": 0, "resourcePreEvent": {"metadata": body}}
    )


def collect(*events: auto.EngineEvent) -> list[ResourceChange]:
    collector = ChangeCollector(holds_data)
    for e in events:
        collector(e)
    return collector.result()


def test_a_replacement_is_one_change_with_what_forces_it_and_its_protection() -> None:
    old = {"type": "aws:rds/instance:Instance", "urn": DB, "protect": True}
    changes = collect(
        event("replace", DB, keys=["engineVersion"], diffs=["engineVersion"], old=old),
        event("create-replacement", DB, keys=["engineVersion"], diffs=["engineVersion"], old=old),
        event("delete-replaced", DB, old=old),
    )
    assert len(changes) == 1, changes
    (change,) = changes
    assert change.op == "replace" and change.replace_keys == ("engineVersion",), change
    assert change.data and change.protected, change


def test_same_reads_and_the_stack_are_not_changes_and_updates_keep_their_keys() -> None:
    changes = collect(
        event("same", DB),
        event("read", "urn:pulumi:prod::stageline::pulumi:pulumi:StackReference::up"),
        event("create", "urn:pulumi:prod::stageline::pulumi:pulumi:Stack::stageline-prod"),
        event("update", SG, diffs=["ingress", "description"]),
    )
    assert [(c.op, c.name, c.diff, c.data) for c in changes] == [
        ("update", "sg", ("description", "ingress"), False)
    ]


def test_secrets_as_the_engine_sends_them_are_read() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    volume = "urn:pulumi:local::stageline::pulumi-python:dynamic/libvirt:Volume::local-seed"
    inputs = {
        "__provider": {**secret, "ciphertext": "x"},
        "cloudInit": {**secret, "ciphertext": "y"},
    }
    collector = ChangeCollector(holds_data)
    collector(event("create", volume, new={"inputs": inputs}))
    assert collector.failure is None
    assert [(c.name, c.data) for c in collector.result()] == [("local-seed", False)]


def test_an_event_that_cannot_be_read_fails_the_preview_instead_of_shrinking_it() -> None:
    def broken(resource_type: str, inputs: object) -> bool:
        raise KeyError("value")

    collector = ChangeCollector(broken)
    collector(event("update", SG, diffs=["ingress"]))
    assert collector.failure and "KeyError" in collector.failure


def test_delete_of_a_protected_resource_is_marked() -> None:
    (change,) = collect(event("delete", SG, old={"urn": SG, "protect": True}))
    assert change.op == "delete" and change.protected and not change.data


def change(urn: str = SG, op: str = "update", diff: tuple[str, ...] = ("ingress",)) -> Any:
    return ResourceChange(urn=urn, type="t", name=urn.rsplit("::")[-1], op=op, diff=diff)


def stage(changes: list[ResourceChange], release: str = "1.0.0") -> StageReport:
    made = StageReport(
        stage="prod",
        target="aws",
        source="engine",
        changes=tuple(changes),
        release=ReleaseChange(current="0.9.0", planned=release, source="promoted from staging"),
    )
    return made.model_copy(update={"digest": stage_digest(made)})


def test_the_digest_hashes_what_an_update_would_do_and_nothing_else() -> None:
    a, b = change(SG), change(DB, "replace", ("engineVersion",))
    assert digest([a, b], "1") == digest([b, a], "1"), "order of events must not matter"
    assert digest([a], "1") != digest([a], "2"), "another release is another approval"
    assert digest([a], "1") != digest([change(SG, "replace")], "1")
    assert digest([a], "1") != digest([change(SG, diff=("tags",))], "1")
    assert digest([a], "1") != digest([a, b], "1")


def test_differences_name_each_resource_that_changed_since_approval() -> None:
    approved = stage([change(SG), change(DB, "update", ("allocatedStorage",))])
    assert differences(approved, approved) == []
    fresh = stage([change(SG, "replace"), change("urn:x::new", "create", ())], release="1.1.0")
    lines = differences(approved, fresh)
    assert any(line.startswith("changed: approved update t sg") for line in lines), lines
    assert any(line.startswith("not approved: create t new") for line in lines), lines
    assert any("no longer planned: update t db" in line for line in lines), lines
    assert "release: approved 1.0.0, now 1.1.0" in lines
    tampered = approved.model_copy(update={"digest": "sha256:0"})
    assert differences(tampered, approved) and "does not hash" in differences(tampered, approved)[0]


def test_the_digest_is_sha256_of_the_canonical_changes() -> None:
    # Approval and deploy may run different stageline builds: the hashed text is fixed.
    text = (
        '{"changes":[["urn:x::a","create",[],[]],'
        '["urn:x::b","replace",["engineVersion","tags"],["engineVersion"]]],"release":"2.0.0"}'
    )
    replace = ResourceChange(
        urn="urn:x::b",
        type="t",
        name="b",
        op="replace",
        diff=("tags", "engineVersion"),
        replace_keys=("engineVersion",),
    )
    changes = [replace, change("urn:x::a", "create", ())]
    assert digest(changes, "2.0.0") == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    no_release = '{"changes":[],"release":null}'
    assert digest([]) == "sha256:" + hashlib.sha256(no_release.encode()).hexdigest()


def test_the_stage_digest_covers_the_release_it_deploys() -> None:
    assert stage([change()], "1.0.0").digest != stage([change()], "1.1.0").digest
    assert stage([change()], "1.0.0").digest == digest([change()], "1.0.0")
    unreleased = StageReport(stage="ci", target="aws", source="engine", changes=(change(),))
    assert stage_digest(unreleased) == digest([change()], None)


def test_differences_read_as_a_reviewer_looks_them_up() -> None:
    # One line per resource, in URN order.
    approved = stage([change(SG, diff=("ingress", "tags")), change(DB, "update", ())])
    fresh = stage([change(SG, "replace", ("ingress",)), change("urn:x::new", "create", ())])
    assert differences(approved, fresh) == [
        "changed: approved update t sg (ingress, tags), now replace t sg (ingress)",
        "approved but no longer planned: update t db",
        "not approved: create t new",
    ]


def test_a_release_appearing_or_going_is_a_difference() -> None:
    released = stage([change()], "1.0.0")
    unreleased = StageReport(stage="prod", target="aws", source="engine", changes=(change(),))
    unreleased = unreleased.model_copy(update={"digest": stage_digest(unreleased)})
    assert differences(unreleased, released) == ["release: approved None, now 1.0.0"]
    assert differences(released, unreleased) == ["release: approved 1.0.0, now None"]
    assert differences(unreleased, unreleased) == []


def test_planned_upstream_outputs_serve_previews_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PLANNED_UPSTREAM_ENV, raising=False)
    assert planned_upstream("local", dry_run=True) is None
    planned = tmp_path / "planned.json"
    planned.write_text(json.dumps({"local": {"schemaVersion": "1.1"}}))
    monkeypatch.setenv(PLANNED_UPSTREAM_ENV, str(planned))
    source = planned_upstream("local", dry_run=True)
    assert source is not None
    details = asyncio.run(source.get_output_details("schemaVersion"))
    assert details.value == "1.1"
    assert planned_upstream("dev", dry_run=True) is None, "another upstream's plan is not used"
    with pytest.raises(PromotionError, match="an update deploys what its upstream"):
        planned_upstream("local", dry_run=False)
    planned.write_text("{not json")
    with pytest.raises(PromotionError, match="cannot read it"):
        planned_upstream("local", dry_run=True)


def planned(*types: str) -> StagePlan:
    return StagePlan(
        "s",
        [PlannedResource(f"urn:{t}", t, "n", "", True, False, False) for t in types],
    )


def test_a_stage_needs_the_plugins_of_its_providers_only(tmp_path: Path) -> None:
    plan = planned(
        "pulumi:pulumi:Stack",
        "stageline:database:AwsDatabase",
        "pulumi-python:dynamic/libvirt:Volume",
        "aws:s3/bucket:Bucket",
        "random:index/randomPassword:RandomPassword",
        "pulumi:providers:aws",
    )
    assert needed_plugins(plan) == {"aws", "random"}
    home = tmp_path / "home"
    (home / "plugins" / "resource-random-v4.21.4").mkdir(parents=True)
    assert missing_plugins(plan, home) == ["aws"]
    (home / "plugins" / "resource-aws-v7.51.1").mkdir()
    assert missing_plugins(plan, home) == []
    assert missing_plugins(planned("pulumi-python:dynamic/libvirt:Domain"), tmp_path) == []


def test_a_libvirt_data_disk_is_data_and_a_root_disk_is_not() -> None:
    volume = "pulumi-python:dynamic/libvirt:Volume"
    disk = "urn:pulumi:local::stageline::stageline:database:LibvirtDatabase${volume}::"
    data = {"name": "local-db-0-data.qcow2", "capacityGb": 4.0}
    root = {"name": "local-db-0-root.qcow2", "backing": "/pool/base.qcow2"}
    changes = collect(
        event("replace", disk.format(volume=volume) + "data", new={"inputs": data}),
        event("delete", disk.format(volume=volume) + "root", old={"inputs": root}),
    )
    assert [(c.name, c.data) for c in changes] == [("data", True), ("root", False)]


def fake_previewer(root: str, stage: str, planned: Any, environ: Any) -> Any:
    """A previewer for the scheduling tests (module level: it runs in a spawned process).
    `ROOT` names the stages with pending changes; `b` has some only once chained."""
    from stageline.ci.engine_preview import EngineResult

    pending = set(root.split(","))
    if stage == "b" and planned is not None:
        pending.add("b")
    changes = [change(f"urn:{stage}::r", "update")] if stage in pending else []
    return EngineResult(stage, changes, current_release=json.dumps(planned))


def scheduled(pending: str) -> dict[str, Any]:
    from stageline.ci.preview_all import _Stage, run_engine_previews

    stages = {
        name: _Stage(name, "libvirt", None, StagePlan(name, exports={"of": name}), up, engine=True)
        for name, up in (("a", None), ("b", "a"), ("c", "b"))
    }
    run_engine_previews(stages, Path(pending), 2, fake_previewer)
    return stages


def test_a_downstream_stage_is_previewed_again_against_a_pending_upstreams_plan() -> None:
    stages = scheduled("a")
    b, c = stages["b"], stages["c"]
    assert b.chained_from == "a" and json.loads(b.result.current_release) == {"a": {"of": "a"}}
    assert b.result.changes, "the chained preview is the one kept"
    # b has pending changes once chained, so c is chained to b's plan in turn.
    assert c.chained_from == "b" and json.loads(c.result.current_release) == {"b": {"of": "b"}}


def test_without_pending_upstreams_nothing_is_chained() -> None:
    stages = scheduled("c")
    assert [s.chained_from for s in stages.values()] == [None, None, None]
    assert [bool(s.result.changes) for s in stages.values()] == [False, False, True]
    assert all(json.loads(s.result.current_release) is None for s in stages.values())
