"""Storage against the host's free space: the pure arithmetic of the libvirt preflight."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from components.libvirt.capacity import (
    GIB,
    VolumeNeed,
    check_fits,
    planned_volumes,
    statfs_available,
)
from components.spec import DatabaseSpec, EnvironmentSpec, parse_spec
from stageline.plan.runner import StagePlan, unwrap_secrets
from stageline.stack_files import read_stack_file
from tests.conftest import REPO_STACKS

POOL = "/srv/pools"
MIB = 1 << 20


def spec_of(stack: str) -> EnvironmentSpec:
    values = read_stack_file(REPO_STACKS / f"Pulumi.{stack}.yaml").values
    spec, issues = parse_spec(values)
    assert spec is not None, issues
    return spec


def with_db(spec: EnvironmentSpec, storage_gb: int, ha: bool) -> EnvironmentSpec:
    db: DatabaseSpec = replace(spec.database, storage_gb=storage_gb, high_availability=ha)
    return replace(spec, database=db)


def needs(
    db_gb: int, objects_gb: int, ha: bool = False, image: int = 400 * MIB
) -> list[VolumeNeed]:
    return planned_volumes("s", with_db(spec_of("local"), db_gb, ha), objects_gb, "/b.qcow2", image)


def test_volumes_that_fit_pass_at_the_boundary() -> None:
    exact = 20 * GIB + 10 * GIB + 400 * MIB
    assert check_fits(needs(20, 10), exact, POOL) == []
    # One byte short: lowering either size would do, so both are named.
    issues = check_fits(needs(20, 10), exact - 1, POOL)
    assert [i.key for i in issues] == ["database.storageGb", "libvirt.storageGb"], issues


def test_a_database_too_large_names_its_key_value_free_space_and_largest_fit() -> None:
    (issue,) = check_fits(needs(999_999, 10), 75 * GIB, POOL)
    assert issue.key == "database.storageGb" and issue.value == 999_999
    assert "75.0 GiB is free" in issue.problem and POOL in issue.problem
    assert "999999.0 GiB" in issue.problem  # the database's own demand in the breakdown
    # 75 GiB free minus the object store (10) and the image (0.4): 64 GiB for the database.
    assert "lower database.storageGb to at most 64" in issue.fix
    assert "libvirt.poolPath" in issue.fix


def test_high_availability_counts_two_data_volumes() -> None:
    assert check_fits(needs(30, 10, ha=False), 41 * GIB, POOL) == []
    (issue,) = check_fits(needs(30, 10, ha=True), 41 * GIB, POOL)
    assert issue.key == "database.storageGb"
    assert "database.storageGb 60.0 GiB" in issue.problem
    assert "at most 15" in issue.fix  # (41 - 10 - 0.4) / 2 volumes


def test_an_object_store_too_large_names_libvirt_storage_gb() -> None:
    (issue,) = check_fits(needs(2, 500), 100 * GIB, POOL)
    assert issue.key == "libvirt.storageGb" and issue.value == 500
    assert "at most 97" in issue.fix


def test_when_no_size_alone_can_make_room_both_are_named() -> None:
    issues = check_fits(needs(40, 40), 50 * GIB, POOL)
    assert sorted(i.key for i in issues) == ["database.storageGb", "libvirt.storageGb"]


def test_a_base_image_larger_than_the_disk_names_the_pool_path() -> None:
    (issue,) = check_fits(needs(1, 1, image=90 * GIB), 50 * GIB, POOL)
    assert issue.key == "libvirt.poolPath" and issue.value == POOL


def test_a_rerun_counts_only_the_room_existing_volumes_have_yet_to_fill() -> None:
    planned = needs(30, 10)
    # The first run's volumes already hold 12 GiB of the 40.4 planned; 30 GiB is left free.
    held = {("s-vm", "s-base.qcow2"): 400 * MIB, ("s-vm", "s-db-0-data.qcow2"): 12 * GIB}
    assert check_fits(planned, 30 * GIB, POOL) != []
    assert check_fits(planned, 30 * GIB, POOL, held) == []
    # Volumes of other names (overlays, seeds) do not reduce the demand.
    assert check_fits(planned, 30 * GIB, POOL, {("s-vm", "s-app-0-root.qcow2"): 20 * GIB}) != []


@pytest.mark.parametrize("stack", ["local", "onprem"])
def test_counted_volumes_are_the_ones_the_stage_registers(
    stack: str, plan_edited: Callable[..., StagePlan]
) -> None:
    plan = plan_edited(stack, {})
    assert plan.ok, plan.error
    registered = {
        unwrap_secrets(r.inputs)["name"]: unwrap_secrets(r.inputs)
        for r in plan.resources
        if r.type.endswith("libvirt:Volume")
    }
    settings = read_stack_file(REPO_STACKS / f"Pulumi.{stack}.yaml").values["libvirt"]
    storage_gb = settings.get("storageGb", 10)
    counted = planned_volumes(stack, spec_of(stack), storage_gb, "/b.qcow2", 1)
    for need in counted:
        assert need.name in registered, f"{stack}: {need.name} not in {sorted(registered)}"
        inputs = registered[need.name]
        if need.key == "libvirt.baseImage":
            assert inputs["source"], inputs
        else:
            assert inputs["capacityGb"] * GIB == need.capacity, (need, inputs)
    data = {n for n, i in registered.items() if i.get("capacityGb") and not i.get("backing")}
    assert data == {n.name for n in counted if n.key != "libvirt.baseImage"}, data


def test_free_space_is_what_unprivileged_writers_get() -> None:
    # `stat -f -c '%a %S'`: blocks free to non-root, times the fundamental block size.
    assert statfs_available("19567484 4096\n") == 19567484 * 4096
    with pytest.raises(ValueError):
        statfs_available("stat: cannot read file system information\n")
