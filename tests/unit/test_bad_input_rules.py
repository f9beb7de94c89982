"""Each target's own rules, one bad-input kind per row.

Every row starts from a spec that the target accepts and changes one thing, so exactly one rule
can answer: the row asserts that the only issue is that rule's key, with the value and the fix
the user needs. The limits are written out here from the services' documentation, not read from
the rules modules, so a changed limit in the code fails a row. Beside each rejected value sits
the nearest accepted one, so an off-by-one in a range check fails too.

These call `validate` directly (no Pulumi program), so a mutation run over the rules modules
stays quick; tests/unit/test_bad_input_clouds.py checks the same rules stop the real program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components.aws.rules import validate as aws_validate
from components.azure.rules import validate as azure_validate
from components.errors import ConfigIssue
from components.gcp.rules import validate as gcp_validate
from components.libvirt.rules import validate as libvirt_validate
from components.spec import EnvironmentSpec, parse_spec
from components.targets import target_of

Validate = Callable[[EnvironmentSpec, str, str], list[ConfigIssue]]
RULES: dict[str, tuple[Validate, str, str]] = {
    # target: (its validate, a region of it, a stack name it accepts)
    "aws": (aws_validate, "us-east-2", "qa"),
    "azure": (azure_validate, "westeurope", "sandbox-azure"),
    "gcp": (gcp_validate, "europe-west1", "sandbox-gcp"),
    "libvirt": (libvirt_validate, "site-a", "local"),
}
# A spec every cloud target accepts: 2 zones, backups of 7 days (Azure's minimum), logs kept 30
# days (a CloudWatch value, and inside Log Analytics' 30..730 and Cloud Logging's 1..3650).
BASE: dict[str, dict[str, Any]] = {
    "network": {"cidr": "10.30.0.0/16", "zoneCount": 2},
    "database": {"backupRetentionDays": 7},
    "observability": {"logRetentionDays": 30},
}


def _spec(target: str, edits: dict[str, Any]) -> EnvironmentSpec:
    raw = {section: dict(values) for section, values in BASE.items()}
    if target == "libvirt":
        raw["network"]["zoneCount"] = 1
    for key, value in edits.items():
        section, field = key.split(".")
        if section != target:
            raw.setdefault(section, {})[field] = value
    spec, issues = parse_spec(raw)
    assert spec is not None, [i.render() for i in issues]
    return spec


def _validate(target: str, edits: dict[str, Any], stack: str | None = None) -> list[ConfigIssue]:
    """The target's rules over the spec, and its settings parser over its own section (the
    edits keyed `<target>.<key>`)."""
    check, region, accepted_stack = RULES[target]
    own = {k.split(".")[1]: v for k, v in edits.items() if k.split(".")[0] == target}
    settings_issues = target_of(target).parse_settings(own)[1] if own else []
    return check(_spec(target, edits), region, stack or accepted_stack) + settings_issues


@pytest.mark.parametrize("target", sorted(RULES))
def test_the_base_spec_is_accepted(target: str) -> None:
    issues = _validate(target, {})
    assert issues == [], [i.render() for i in issues]


# (case, target, the one edit, the key that must answer, fragments of problem + fix)
REJECTED: list[tuple[str, str, dict[str, Any], str, tuple[str, ...]]] = [
    # --- aws ----------------------------------------------------------------------------------
    (
        "aws: one zone (an RDS subnet group needs two)",
        "aws",
        {"network.zoneCount": 1},
        "network.zoneCount",
        ("RDS subnet group", "at least 2 zones", "set network.zoneCount to 2 or more on aws"),
    ),
    (
        "aws: a retention CloudWatch does not offer, nearest below",
        "aws",
        {"observability.logRetentionDays": 13},
        "observability.logRetentionDays",
        ("CloudWatch Logs", "use 14, or another of 1, 3, 5, 7, 14, 30,", ", 3288, 3653"),
    ),
    (
        "aws: a retention CloudWatch does not offer, nearest above",
        "aws",
        {"observability.logRetentionDays": 4},
        "observability.logRetentionDays",
        ("use 3, or another of",),
    ),
    (
        "aws: a retention above CloudWatch's longest",
        "aws",
        {"observability.logRetentionDays": 3654},
        "observability.logRetentionDays",
        ("use 3653,",),
    ),
    (
        "aws: storage below RDS gp3's 20 GiB",
        "aws",
        {"database.storageGb": 19},
        "database.storageGb",
        ("allocates 20 to 65536 GiB", "set database.storageGb to 20 (within 20..65536) on aws"),
    ),
    (
        "aws: storage above RDS gp3's 65536 GiB",
        "aws",
        {"database.storageGb": 65537},
        "database.storageGb",
        ("set database.storageGb to 65536 (within 20..65536) on aws",),
    ),
    (
        "aws: an EC2 type with a near neighbour",
        "aws",
        {"compute.sku": "m6i.huge"},
        "compute.sku",
        ("not an EC2 instance type stageline knows", "did you mean m6i.", "families: ", "m6i"),
    ),
    (
        "aws: an EC2 type with no neighbour",
        "aws",
        {"compute.sku": "Standard_B2s"},
        "compute.sku",
        ("use e.g. m6i.large; families:", "or remove compute.sku to use compute.size"),
    ),
    (
        "aws: an RDS class with no neighbour",
        "aws",
        {"database.sku": "Standard_D2ds_v5"},
        "database.sku",
        ("not an RDS class stageline knows", "use e.g. db.m6g.large;", "database.size"),
    ),
    # --- azure --------------------------------------------------------------------------------
    (
        "azure: a VM size with a near neighbour",
        "azure",
        {"compute.sku": "Standard_D2s_v4"},
        "compute.sku",
        (
            "problem: not an Azure VM size stageline knows |",
            "fix: did you mean Standard_D2s_v5? use a size such as",
        ),
    ),
    (
        "azure: a VM size with no neighbour",
        "azure",
        {"compute.sku": "m6i.large"},
        "compute.sku",
        (
            "fix: use a size such as Standard_B2s, Standard_D2s_v5, Standard_D4as_v5 or "
            "Standard_E4s_v5 "
            "(B, Dsv5, Dasv5, Ddsv5, Esv5, Easv5, Fsv2 families), or remove compute.sku to use "
            "compute.size",
        ),
    ),
    (
        "azure: a compute SKU that is only a database SKU",
        "azure",
        {"compute.sku": "Standard_D2ds_v5x"},
        "compute.sku",
        ("not an Azure VM size",),
    ),
    (
        "azure: a database SKU with a near neighbour",
        "azure",
        {"database.sku": "Standard_D2s_v5"},
        "database.sku",
        (
            "problem: not an Azure Database for PostgreSQL Flexible Server SKU stageline knows |",
            "fix: did you mean Standard_D2ds_v5? use a SKU such as",
        ),
    ),
    (
        "azure: a database SKU with no neighbour",
        "azure",
        {"database.sku": "db.m6g.large"},
        "database.sku",
        (
            "fix: use a SKU such as Standard_B2s (Burstable), Standard_D2ds_v5 (General "
            "Purpose) or Standard_E4ds_v5 (Memory Optimized), or remove database.sku to use "
            "database.size",
        ),
    ),
    (
        "azure: high availability on the small (Burstable) size",
        "azure",
        {"database.highAvailability": True},
        "database.size",
        (
            "problem: a Burstable Flexible Server has no zone-redundant standby, and "
            "database.highAvailability is on |",
            "fix: use database.size medium or larger (or a General Purpose database.sku), "
            "or turn highAvailability off",
        ),
    ),
    (
        "azure: high availability on a Burstable SKU",
        "azure",
        {
            "database.highAvailability": True,
            "database.sku": "Standard_B2s",
            "database.size": "xlarge",
        },
        "database.sku",
        ("Burstable",),
    ),
    (
        "azure: storage above Flexible Server's largest disk",
        "azure",
        {"database.storageGb": 32768},
        "database.storageGb",
        ("disks stop at 32767 GiB", "set database.storageGb to 32767 or less"),
    ),
    (
        "azure: backups below Flexible Server's 7 days",
        "azure",
        {"database.backupRetentionDays": 6},
        "database.backupRetentionDays",
        ("7 to 35 days", "cannot turn them off", "set database.backupRetentionDays to 7..35"),
    ),
    (
        "azure: backups above Flexible Server's 35 days",
        "azure",
        {"database.backupRetentionDays": 36},
        "database.backupRetentionDays",
        ("7 to 35 days",),
    ),
    (
        "azure: storage account name of 2 characters",
        "azure",
        {"azure.storageAccountName": "ab"},
        "azure.storageAccountName",
        (
            "3 to 24 lowercase letters and digits (2 characters given)",
            "fix: use e.g. acmeshopprod01 (no hyphens, underscores or capitals), or remove "
            "azure.storageAccountName to derive one from the stack",
        ),
    ),
    (
        "azure: storage account name of 25 characters",
        "azure",
        {"azure.storageAccountName": "a" * 25},
        "azure.storageAccountName",
        ("(25 characters given)",),
    ),
    (
        "azure: storage account name with capitals",
        "azure",
        {"azure.storageAccountName": "AcmeShop01"},
        "azure.storageAccountName",
        ("lowercase letters and digits",),
    ),
    (
        "azure: storage account name with a hyphen",
        "azure",
        {"azure.storageAccountName": "acme-shop01"},
        "azure.storageAccountName",
        ("lowercase letters and digits",),
    ),
    (
        "azure: log retention below Log Analytics' 30 days",
        "azure",
        {"observability.logRetentionDays": 29},
        "observability.logRetentionDays",
        ("keeps logs 30 to 730 days", "set observability.logRetentionDays to 30 on azure"),
    ),
    (
        "azure: log retention above Log Analytics' 730 days",
        "azure",
        {"observability.logRetentionDays": 731},
        "observability.logRetentionDays",
        ("set observability.logRetentionDays to 730 on azure",),
    ),
    # --- gcp ----------------------------------------------------------------------------------
    (
        "gcp: a machine type with a near neighbour",
        "gcp",
        {"compute.sku": "n1-highcpu-1"},
        "compute.sku",
        ("not a GCE machine type", "did you mean n1-highcpu-2? use a type such as e2-small"),
    ),
    (
        "gcp: a machine type with no neighbour",
        "gcp",
        {"compute.sku": "Standard_B2s"},
        "compute.sku",
        ("not a GCE machine type", "use a type such as", "to use compute.size"),
    ),
    (
        "gcp: a Cloud SQL tier that does not exist",
        "gcp",
        {"database.sku": "db-custom-1-1024"},
        "database.sku",
        ("not a Cloud SQL tier stageline can use: ", "use e.g. db-custom-2-7680"),
    ),
    (
        "gcp: an instance name with capitals",
        "gcp",
        {"gcp.databaseInstanceName": "Shop-pg"},
        "gcp.databaseInstanceName",
        ("not an RFC 1035 name", "use e.g. shop-prod-pg"),
    ),
    (
        "gcp: an instance name starting with a digit",
        "gcp",
        {"gcp.databaseInstanceName": "1shop"},
        "gcp.databaseInstanceName",
        ("RFC 1035",),
    ),
    (
        "gcp: an instance name ending in a hyphen",
        "gcp",
        {"gcp.databaseInstanceName": "shop-pg-"},
        "gcp.databaseInstanceName",
        ("RFC 1035",),
    ),
    (
        "gcp: an instance name of 64 characters",
        "gcp",
        {"gcp.databaseInstanceName": "s" * 64},
        "gcp.databaseInstanceName",
        ("RFC 1035",),
    ),
    (
        "gcp: storage below Cloud SQL's 10 GB",
        "gcp",
        {"database.storageGb": 9},
        "database.storageGb",
        ("holds 10 GB to 65536 GB", "set database.storageGb to 10 (within 10..65536) on gcp"),
    ),
    (
        "gcp: storage above Cloud SQL's 64 TB",
        "gcp",
        {"database.storageGb": 65537},
        "database.storageGb",
        ("set database.storageGb to 65536 (within 10..65536) on gcp",),
    ),
    (
        # Two zones of a /22 leave private service access a /25; Cloud SQL needs a /24.
        "gcp: a network one bit too small for private service access",
        "gcp",
        {"network.cidr": "10.80.0.0/22"},
        "network.cidr",
        ("a /25 for private service access (10.80.", "at least a /24", "to a /21 or"),
    ),
    (
        "gcp: a network two bits too small for private service access",
        "gcp",
        {"network.cidr": "10.80.0.0/23"},
        "network.cidr",
        ("a /26 for private service access", "widen network.cidr to a /21 or larger"),
    ),
    (
        "gcp: log retention of 0 days",
        "gcp",
        {"observability.logRetentionDays": 0},
        "observability.logRetentionDays",
        ("keeps logs 1 to 3650 days", "set observability.logRetentionDays to 1 on gcp"),
    ),
    (
        "gcp: log retention above Cloud Logging's 3650 days",
        "gcp",
        {"observability.logRetentionDays": 3651},
        "observability.logRetentionDays",
        ("set observability.logRetentionDays to 3650 on gcp",),
    ),
    # --- libvirt ------------------------------------------------------------------------------
    (
        "libvirt: two zones on one site",
        "libvirt",
        {"network.zoneCount": 2},
        "network.zoneCount",
        ("one failure domain", "set network.zoneCount: 1 on libvirt"),
    ),
    *[
        (
            f"libvirt: the cloud-only override {key}",
            "libvirt",
            {key: value},
            key,
            ("a cloud-only override", f"remove {key} from this libvirt stage"),
        )
        for key, value in [
            ("compute.sku", "m6i.large"),
            ("database.sku", "db.m6g.large"),
        ]
    ],
]


@pytest.mark.parametrize(
    ("target", "edits", "key", "fragments"),
    [c[1:] for c in REJECTED],
    ids=[c[0] for c in REJECTED],
)
def test_each_bad_input_is_answered_by_its_own_rule(
    target: str, edits: dict[str, Any], key: str, fragments: tuple[str, ...]
) -> None:
    issues = _validate(target, edits)
    assert [i.key for i in issues] == [key], [i.render() for i in issues]
    (issue,) = issues
    # The value reported is the one the user wrote (an HA row reports the sku or size it blames).
    if key in edits:
        assert issue.value == edits[key], issue.render()
    text = f"problem: {issue.problem} | fix: {issue.fix}"
    for fragment in fragments:
        assert fragment in text, text


# The nearest values each rule must still accept: (case, target, edit).
ACCEPTED: list[tuple[str, str, dict[str, Any]]] = [
    ("aws: two zones", "aws", {"network.zoneCount": 2}),
    ("aws: 1 day of logs", "aws", {"observability.logRetentionDays": 1}),
    ("aws: 3653 days of logs", "aws", {"observability.logRetentionDays": 3653}),
    ("aws: 20 GiB", "aws", {"database.storageGb": 20}),
    ("aws: 65536 GiB", "aws", {"database.storageGb": 65536}),
    ("aws: a real EC2 type", "aws", {"compute.sku": "m6i.large"}),
    ("aws: a real RDS class", "aws", {"database.sku": "db.m6g.large"}),
    ("azure: a real VM size", "azure", {"compute.sku": "Standard_D2s_v5"}),
    ("azure: a real database SKU", "azure", {"database.sku": "Standard_D2ds_v5"}),
    (
        "azure: HA on a General Purpose SKU",
        "azure",
        {"database.highAvailability": True, "database.sku": "Standard_D2ds_v5"},
    ),
    (
        "azure: HA on the medium size",
        "azure",
        {"database.highAvailability": True, "database.size": "medium"},
    ),
    ("azure: the largest disk", "azure", {"database.storageGb": 32767}),
    ("azure: 35 days of backups", "azure", {"database.backupRetentionDays": 35}),
    ("azure: a 3-character account", "azure", {"azure.storageAccountName": "abc"}),
    ("azure: a 24-character account", "azure", {"azure.storageAccountName": "a1" * 12}),
    ("azure: 730 days of logs", "azure", {"observability.logRetentionDays": 730}),
    ("gcp: a real machine type", "gcp", {"compute.sku": "n2-standard-4"}),
    ("gcp: a real Cloud SQL tier", "gcp", {"database.sku": "db-custom-2-7680"}),
    ("gcp: an RFC 1035 instance name", "gcp", {"gcp.databaseInstanceName": "shop-prod-pg"}),
    ("gcp: a 1-letter instance name", "gcp", {"gcp.databaseInstanceName": "s"}),
    ("gcp: a 63-character instance name", "gcp", {"gcp.databaseInstanceName": "s" * 63}),
    ("gcp: 10 GB", "gcp", {"database.storageGb": 10}),
    ("gcp: 65536 GB", "gcp", {"database.storageGb": 65536}),
    ("gcp: a /21 leaves a /24", "gcp", {"network.cidr": "10.80.0.0/21"}),
    ("gcp: a /22 with one zone", "gcp", {"network.cidr": "10.80.0.0/22", "network.zoneCount": 1}),
    ("gcp: 1 day of logs", "gcp", {"observability.logRetentionDays": 1}),
    ("gcp: 3650 days of logs", "gcp", {"observability.logRetentionDays": 3650}),
]


@pytest.mark.parametrize(
    ("target", "edits"), [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED]
)
def test_the_nearest_good_value_is_accepted(target: str, edits: dict[str, Any]) -> None:
    issues = _validate(target, edits)
    assert issues == [], [i.render() for i in issues]


@pytest.mark.parametrize("cidr", ["10.80.0.0", "10.80.0.0/8", "10.80.0.0/28", "8.8.0.0/16"])
def test_a_malformed_cidr_is_left_to_the_common_rules_on_gcp(cidr: str) -> None:
    """spec.validate_network reports it; the GCP rule must not crash or report it twice."""
    spec = _spec("gcp", {"network.cidr": cidr})
    assert gcp_validate(spec, "europe-west1", "sandbox-gcp") == []


# --- stack names: the prefix of every auto-named resource --------------------------------------
# The longest stack each cloud allows, worked out from its strictest auto-named child:
# aws: S3 bucket 63 - len("-storage-bucket") - 8 random = 40;
# azure: Flexible Server 63 - len("-observability-logs") - 8 = 36;
# gcp: 63 - len("-compute-autoscaler") - 8 = 36.
LONGEST = {"aws": 40, "azure": 36, "gcp": 36}
CLOUD_WORD = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}

# (case, target, stack): each breaks only the naming rule, at a place the rule must see.
BAD_STACKS = [
    (f"{target}: {why}", target, stack)
    for target in ("aws", "azure", "gcp")
    for why, stack in [
        ("capitals", "Sandbox"),
        ("leading digit", "9lives"),
        ("trailing hyphen", "ci-"),
        ("underscore", "ci_pr_42"),
        ("a dot", "ci.pr"),
        ("one character too long", "s" * (LONGEST[target] + 1)),
    ]
] + [("aws: double hyphen (S3)", "aws", "ci--7")]
GOOD_STACKS = [
    (f"{target}: {stack[:12]} ({len(stack)})", target, stack)
    for target in ("aws", "azure", "gcp")
    for stack in ("ci-pr-42", "s" * LONGEST[target], "c9")
] + [("aws: one letter", "aws", "q"), ("gcp: one letter", "gcp", "q")]


@pytest.mark.parametrize(
    ("target", "stack"), [c[1:] for c in BAD_STACKS], ids=[c[0] for c in BAD_STACKS]
)
def test_a_stack_name_the_cloud_cannot_use_is_answered_by_the_naming_rule(
    target: str, stack: str
) -> None:
    issues = _validate(target, {}, stack=stack)
    assert [i.key for i in issues] == ["stage"], [i.render() for i in issues]
    (issue,) = issues
    assert issue.value == stack
    assert f"cannot prefix {CLOUD_WORD[target]} resource names" in issue.problem, issue.render()
    assert f"at most {LONGEST[target]} lowercase letters" in issue.fix, issue.render()
    if len(stack) > LONGEST[target]:
        assert f"{len(stack)} characters make" in issue.problem, issue.render()
        assert "8 random characters longer than" in issue.problem, issue.render()


@pytest.mark.parametrize(
    ("target", "stack"), [c[1:] for c in GOOD_STACKS], ids=[c[0] for c in GOOD_STACKS]
)
def test_a_stack_name_the_cloud_can_use_is_accepted(target: str, stack: str) -> None:
    issues = _validate(target, {}, stack=stack)
    assert issues == [], [i.render() for i in issues]


def test_the_aws_length_message_names_the_strictest_child() -> None:
    stack = "s" * 41
    (issue,) = _validate("aws", {}, stack=stack)
    assert f"the S3 bucket name {stack}-storage-bucket plus 8 random characters" in issue.problem
    assert "longer than AWS's 63" in issue.problem, issue.render()


@pytest.mark.parametrize(
    ("target", "child"),
    [("azure", "-observability-logs"), ("gcp", "-compute-autoscaler")],
)
def test_the_length_message_names_a_child_and_the_limit(target: str, child: str) -> None:
    stack = "s" * 37
    (issue,) = _validate(target, {}, stack=stack)
    assert f"names such as {stack}{child} plus 8 random characters" in issue.problem
    assert f"longer than {CLOUD_WORD[target]}'s 63" in issue.problem, issue.render()


def test_every_problem_is_reported_at_once() -> None:
    for target, edits in [
        ("aws", {"network.zoneCount": 1, "database.storageGb": 19, "compute.sku": "x"}),
        (
            "azure",
            {
                "database.backupRetentionDays": 1,
                "azure.storageAccountName": "A",
                "compute.sku": "x",
            },
        ),
        ("gcp", {"database.storageGb": 9, "gcp.databaseInstanceName": "1pg", "compute.sku": "x"}),
    ]:
        issues = _validate(target, edits, stack="Bad")
        assert {i.key for i in issues} == {"stage", *edits}, [i.render() for i in issues]
