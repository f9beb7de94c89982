"""`preview --all` on the real engine: the libvirt stages previewed against their state, chained
through their upstreams' planned outputs; the cloud stages covered by offline plans, and marked.

The checks read the report file, libvirt and the state, not only what the command prints. Run
under the libvirt lock (it deploys `local` with the boot-sector image).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from stageline.ci.report import PreviewReport, load_report
from tests.conftest import edit_stack_file
from tests.integration.libvirt_checks import (
    LOCAL_URI,
    STAGE_PREFIXES,
    base_image,
    cli_on,
    libvirt_stages,
    objects,
    ok,
)

pytestmark = pytest.mark.integration

LIBVIRT = ("local", "onprem", "onprem-dr")


@pytest.fixture
def project(project_dir: Path, tmp_path: Path) -> Iterator[Path]:
    with libvirt_stages(project_dir, tmp_path.name, base_image()) as root:
        yield root


def preview_all(project: Path, *args: str) -> tuple[Result, PreviewReport]:
    report = project / "report.json"
    result = cli_on(project)("preview", "--all", "--format", "json", "--output", str(report), *args)
    assert report.is_file(), result.output
    return result, load_report(report.read_text())


def nothing_on_libvirt() -> None:
    for prefix in STAGE_PREFIXES:
        found = objects(LOCAL_URI, prefix)
        assert not (found.domains or found.networks or found.pools), found


def deployed_resources(state: Path, stage: str) -> list[str]:
    checkpoint = state / ".pulumi" / "stacks" / "stageline" / f"{stage}.json"
    if not checkpoint.is_file():
        return []
    resources = json.loads(checkpoint.read_text())["checkpoint"].get("latest") or {}
    return [r["urn"] for r in resources.get("resources") or []]


def test_preview_all_chains_the_libvirt_stages_and_changes_nothing(
    project: Path, state_dir: Path
) -> None:
    result, report = preview_all(project)
    assert result.exit_code == 0, result.output
    assert [s.stage for s in report.stages] == list(report.selection.stages)

    # Nothing is deployed: local would create everything, and its downstream stages are shown
    # as they will be once local (then onprem) is applied and promoted.
    local, onprem, dr = (report.stage(name) for name in LIBVIRT)
    for stage in (local, onprem, dr):
        assert stage.source == "engine" and stage.ok, stage
        assert set(stage.counts) == {"create"} and stage.counts["create"] > 10, stage.counts
    assert (local.chained_from, onprem.chained_from, dr.chained_from) == (None, "local", "onprem")
    assert onprem.release and onprem.release.source == "promoted from local"
    domains = [c.name for c in dr.changes if c.type.endswith(":Domain")]
    assert "onprem-dr-database-0-domain" in domains, domains
    # The database's data disk is flagged as data; a guest's root disk is not.
    data = {c.name for c in local.changes if c.data}
    assert "local-database-0-data" in data and "local-compute-0-root" not in data, data

    # Every cloud stage is covered by its offline plan, and says so.
    for stage in report.stages:
        if stage.stage not in LIBVIRT:
            assert stage.source == "offline" and "provider plugin" in stage.note, stage

    # A preview touches nothing: no libvirt object, no resource in any stack's state.
    nothing_on_libvirt()
    for name in LIBVIRT:
        assert deployed_resources(state_dir, name) == [], name

    # The same inputs hash the same: the digest is what a reviewer approves.
    _, again = preview_all(project)
    assert [s.digest for s in again.stages] == [s.digest for s in report.stages]


def test_preview_all_after_an_up_shows_only_what_a_change_does(
    project: Path, state_dir: Path
) -> None:
    ok(cli_on(project)("up", "local", "--no-wait"))
    deployed = deployed_resources(state_dir, "local")
    assert deployed, "local has no resources in its state after up"

    _, report = preview_all(project)
    local, onprem = report.stage("local"), report.stage("onprem")
    assert local.ok and local.counts == {} and local.changes == (), local
    assert local.release and local.release.current == local.release.planned
    # local has nothing pending: onprem previews against local's applied outputs.
    assert onprem.ok and onprem.chained_from is None, onprem

    # A change to local's stack file: an update there, and onprem chained again.
    edit_stack_file(project / "stacks/Pulumi.local.yaml", {"compute.minCount": 2})
    _, changed = preview_all(project)
    local2 = changed.stage("local")
    assert local2.ok and local2.counts.get("create", 0) >= 1, local2.counts
    assert changed.stage("onprem").chained_from == "local"
    assert local2.digest != local.digest
    # Still a preview: the state holds exactly what the up made.
    assert deployed_resources(state_dir, "local") == deployed
    ok(cli_on(project)("destroy", "local", "--yes"))
