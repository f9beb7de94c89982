"""GCP and Azure permission facts (components/<target>/grants.py, through each TargetPolicy): the
grants an IAM resource's inputs give, as text that is equal for the same grant however it is
written and different for a wider one, so that policy/broadening.py sees a new grant."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.azure.policy import POLICY as AZURE
from components.gcp.policy import POLICY as GCP
from policy.broadening import widenings
from policy.facts import Grant, TargetPolicy
from policy.model import UNKNOWN, Resource
from stageline.plan.runner import plan_stage
from stageline.policy_gate import widened
from stageline.program import deploy
from stageline.stack_files import read_stack_file

STACKS = Path(__file__).resolve().parents[2] / "stacks"


def grants(facts: TargetPolicy, type_: str, inputs: dict[str, Any]) -> list[Grant]:
    return facts.permissions[type_](Resource(type_, "r", inputs))


def texts(facts: TargetPolicy, type_: str, inputs: dict[str, Any]) -> set[str]:
    return {g.text for g in grants(facts, type_, inputs)}


# --- GCP -------------------------------------------------------------------------------------

SA = "serviceAccount:app@p.iam.gserviceaccount.com"


@pytest.mark.parametrize(
    ("type_", "inputs", "expected"),
    [
        (
            "gcp:projects/iAMMember:IAMMember",
            {"project": "p", "role": "roles/logging.logWriter", "member": SA},
            {f"roles/logging.logWriter to {SA} on p"},
        ),
        (
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            {"bucket": "b", "role": "roles/storage.objectAdmin", "member": SA},
            {f"roles/storage.objectAdmin to {SA} on b"},
        ),
        (
            "gcp:secretmanager/secretIamMember:SecretIamMember",
            {
                "secretId": "s",
                "role": "roles/secretmanager.secretAccessor",
                "member": SA,
                "condition": {"title": "t", "expression": "request.time < x"},
            },
            {f"roles/secretmanager.secretAccessor to {SA} on s if request.time < x"},
        ),
        (
            "gcp:storage/bucketIAMBinding:BucketIAMBinding",
            {"bucket": "b", "role": "roles/r", "members": ["user:b@x", "user:a@x", "user:a@x"]},
            {"roles/r to user:a@x on b", "roles/r to user:b@x on b"},
        ),
        (
            "gcp:projects/iAMBinding:IAMBinding",
            {
                "project": "p",
                "role": "roles/r",
                "members": ["user:a@x"],
                "condition": {"title": "t"},
            },
            {"roles/r to user:a@x on p"},
        ),
        (
            "gcp:projects/iAMPolicy:IAMPolicy",
            {
                "project": "p",
                "policyData": json.dumps(
                    {
                        "bindings": [
                            {"role": "roles/a", "members": ["user:a@x"]},
                            {
                                "role": "roles/b",
                                "members": ["user:a@x"],
                                "condition": {"expression": "e"},
                            },
                            "not a binding",
                        ]
                    }
                ),
            },
            {"roles/a to user:a@x on p", "roles/b to user:a@x on p if e"},
        ),
        (
            "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
            {
                "bucket": "b",
                "policyData": {"bindings": [{"role": "roles/a", "members": ["allUsers"]}]},
            },
            {"roles/a to allUsers on b"},
        ),
        (
            "gcp:secretmanager/secretIamPolicy:SecretIamPolicy",
            {"secretId": "s", "policyData": UNKNOWN},
            {"a policy not known before the update"},
        ),
        (
            "gcp:projects/iAMPolicy:IAMPolicy",
            {"project": "p", "policyData": "{x"},
            {"an unreadable policy: {x"},
        ),
        ("gcp:projects/iAMPolicy:IAMPolicy", {"project": "p", "policyData": "[]"}, set()),
        (
            "gcp:projects/iAMMember:IAMMember",
            {"role": "roles/r", "member": SA},
            {f"roles/r to {SA} on ?"},
        ),
    ],
)
def test_gcp_iam_types_read_their_grants(
    type_: str, inputs: dict[str, Any], expected: set[str]
) -> None:
    assert texts(GCP, type_, inputs) == expected


def test_gcp_a_new_member_or_role_is_a_new_grant() -> None:
    member = "gcp:projects/iAMMember:IAMMember"
    base = {"project": "p", "role": "roles/logging.logWriter", "member": SA}
    before = texts(GCP, member, base)
    assert texts(GCP, member, {**base, "role": "roles/owner"}) - before
    assert texts(GCP, member, {**base, "member": "allUsers"}) - before
    assert texts(GCP, member, dict(base)) == before


# --- Azure -----------------------------------------------------------------------------------

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_ID = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/4633458b"


def test_azure_role_assignments_read_case_insensitively_as_azure_ids_are() -> None:
    one = {"roleDefinitionId": ROLE_ID, "principalId": "p1", "scope": "/subscriptions/s/RG/x"}
    other = {
        **one,
        "roleDefinitionId": ROLE_ID.upper().replace("S/", "s/"),
        "scope": "/SUBSCRIPTIONS/s/rg/X",
    }
    assert (
        texts(AZURE, ASSIGNMENT, one)
        == texts(AZURE, ASSIGNMENT, other)
        == {f"{ROLE_ID.lower()} to p1 on /subscriptions/s/rg/x"}
    )
    assert grants(AZURE, ASSIGNMENT, one)[0].property == "roleDefinitionId"


@pytest.mark.parametrize(
    "change",
    [{"roleDefinitionId": ROLE_ID + "0"}, {"principalId": "p2"}, {"scope": "/subscriptions/s"}],
)
def test_azure_another_role_principal_or_scope_is_a_new_grant(change: dict[str, str]) -> None:
    one = {"roleDefinitionId": ROLE_ID, "principalId": "p1", "scope": "/subscriptions/s/rg"}
    assert texts(AZURE, ASSIGNMENT, {**one, **change}) != texts(AZURE, ASSIGNMENT, one)


def test_azure_a_condition_is_part_of_the_grant() -> None:
    one = {"roleDefinitionId": ROLE_ID, "principalId": "p1", "scope": "/s"}
    assert texts(AZURE, ASSIGNMENT, {**one, "condition": "@Resource[x] == 'y'"}) == {
        f"{ROLE_ID.lower()} to p1 on /s if @Resource[x] == 'y'"
    }


@pytest.mark.parametrize(
    ("facts", "type_", "inputs", "expected"),
    [
        (
            GCP,
            "gcp:projects/iAMMember:IAMMember",
            {"project": "p", "role": "roles/r", "member": "user:a@x"},
            [Grant("member", "roles/r to user:a@x on p")],
        ),
        (
            GCP,
            "gcp:projects/iAMBinding:IAMBinding",
            {"project": "p", "role": "roles/r", "members": ["user:a@x"]},
            [Grant("members", "roles/r to user:a@x on p")],
        ),
        (
            GCP,
            "gcp:storage/bucketIAMBinding:BucketIAMBinding",
            {
                "bucket": "b",
                "role": "roles/r",
                "members": ["user:a@x"],
                "condition": {"title": "t", "expression": "request.time < x"},
            },
            [Grant("members", "roles/r to user:a@x on b if request.time < x")],
        ),
        (
            GCP,
            "gcp:projects/iAMPolicy:IAMPolicy",
            {
                "project": "p",
                "policyData": json.dumps(
                    {"bindings": [{"role": "roles/a", "members": ["user:a@x"]}]}
                ),
            },
            [Grant("policyData.bindings[0]", "roles/a to user:a@x on p")],
        ),
        (
            GCP,
            "gcp:projects/iAMPolicy:IAMPolicy",
            {"policyData": UNKNOWN},
            [Grant("policyData", "a policy not known before the update")],
        ),
        (
            GCP,
            "gcp:projects/iAMPolicy:IAMPolicy",
            {"policyData": "x"},
            [Grant("policyData", "an unreadable policy: x")],
        ),
    ],
)
def test_each_grant_names_where_it_is_written(
    facts: TargetPolicy, type_: str, inputs: dict[str, Any], expected: list[Grant]
) -> None:
    assert grants(facts, type_, inputs) == expected


@pytest.mark.parametrize(
    ("type_", "before", "after", "added"),
    [
        (
            "gcp:projects/iAMMember:IAMMember",
            {"project": "p", "role": "roles/logging.logWriter", "member": SA},
            {"project": "p", "role": "roles/owner", "member": SA},
            [f"roles/owner to {SA} on p"],
        ),
        (
            "gcp:storage/bucketIAMBinding:BucketIAMBinding",
            {"bucket": "b", "role": "roles/r", "members": ["user:a@x"]},
            {"bucket": "b", "role": "roles/r", "members": ["user:a@x", "allUsers"]},
            ["roles/r to allUsers on b"],
        ),
        (
            "gcp:storage/bucketIAMBinding:BucketIAMBinding",
            {"bucket": "b", "role": "roles/r", "members": ["user:a@x", "allUsers"]},
            {"bucket": "b", "role": "roles/r", "members": ["user:a@x"]},
            [],
        ),
        (
            ASSIGNMENT,
            {"roleDefinitionId": ROLE_ID, "principalId": "p1", "scope": "/s/rg"},
            {"roleDefinitionId": ROLE_ID, "principalId": "p1", "scope": "/s"},
            [f"{ROLE_ID.lower()} to p1 on /s"],
        ),
    ],
    ids=["gcp new role", "gcp new member", "gcp member removed", "azure wider scope"],
)
def test_a_new_gcp_or_azure_grant_is_a_widening(
    type_: str, before: dict[str, Any], after: dict[str, Any], added: list[str]
) -> None:
    # The facts are found from the type alone, as the promotion gate finds them.
    found = widenings(Resource(type_, "r", before), Resource(type_, "r", after))
    assert [a for w in found for a in w.added] == added
    assert all(w.kind == "permissions" for w in found)


def plan(tmp_path: Path, stage: str, app_version: str) -> dict[str, Resource]:
    """The stage's template planned offline with release `app_version` pinned, by URN."""
    project = tmp_path / app_version
    shutil.copytree(STACKS, project / "stacks")
    (project / "examples").symlink_to(STACKS.parent / "examples")
    path = project / "stacks" / f"Pulumi.{stage}.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"].pop("stageline:promotesFrom")
    data["config"]["stageline:release"] = {
        "appVersion": app_version,
        "artifact": "https://artifacts.example.com/app.tar.gz",
    }
    path.write_text(yaml.safe_dump(data))
    folder = project / "stacks"
    result = plan_stage(read_stack_file(path), functools.partial(deploy, folder, offline=True))
    assert result.ok, result.error
    return {r.urn: r for r in result.resources}


@pytest.mark.parametrize(("stage", "facts"), [("sandbox-gcp", GCP), ("sandbox-azure", AZURE)])
def test_the_templates_grants_are_read_and_a_release_widens_none(
    tmp_path: Path, stage: str, facts: TargetPolicy
) -> None:
    old, new = plan(tmp_path, stage, "1.0.0"), plan(tmp_path, stage, "1.1.0")
    iam = [urn for urn, r in new.items() if r.type in facts.permissions]
    # Each grant the template gives is read, on what it is given.
    assert iam and all(facts.permissions[new[u].type](new[u]) for u in iam), iam
    for urn, resource in new.items():
        inputs = old[urn].inputs if urn in old else None
        assert widened(resource.type, urn, inputs, resource.inputs) == [], urn
