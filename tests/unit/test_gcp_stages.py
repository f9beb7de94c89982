"""Properties every GCP stage in stacks/ must have, and what prod-like settings turn on."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from components.gcp.naming import APP_TAG, label_value
from components.network import plan_subnets
from stageline.plan.runner import StagePlan
from stageline.plan.runner import unwrap_secrets as plain
from stageline.stack_files import read_stack_file
from tests.conftest import REPO_STACKS, all_stack_names
from tests.unit.planned import of_type, one

STAGES = [
    s
    for s in all_stack_names()
    if read_stack_file(REPO_STACKS / f"Pulumi.{s}.yaml").values["target"] == "gcp"
]
SANDBOX = "sandbox-gcp"
SENSITIVE_PORTS = (22, 5432)
OPEN_WORLD = {"0.0.0.0/0", "::/0"}

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
FIREWALL = "gcp:compute/firewall:Firewall"
BUCKET = "gcp:storage/bucket:Bucket"
TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
PROD_LIKE = {
    "tier": "production",
    "protectData": True,
    "database.size": "medium",
    "database.highAvailability": True,
    "database.deletionProtection": True,
    "database.backupRetentionDays": 30,
    "observability.logRetentionDays": 365,
}


def test_at_least_one_stage_runs_on_gcp() -> None:
    assert SANDBOX in STAGES


def _values(stage: str) -> dict:
    return read_stack_file(REPO_STACKS / f"Pulumi.{stage}.yaml").values


def _covers(rule: dict, port: int) -> bool:
    if rule["protocol"] == "all" or not rule.get("ports"):
        return True
    for spec in rule["ports"]:
        low, _, high = str(spec).partition("-")
        if int(low) <= port <= int(high or low):
            return True
    return False


@pytest.mark.parametrize("stage", STAGES)
def test_encryption_is_on(repo_plans: dict[str, StagePlan], stage: str) -> None:
    """GCP encrypts disks, buckets and Cloud SQL at rest with no way to turn it off; what the
    template must set is TLS for every database connection."""
    plan = repo_plans[stage]
    instance = one(plan, INSTANCE)
    assert instance.inputs["settings"]["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY", (
        instance.urn
    )
    disks = one(plan, TEMPLATE).inputs["disks"]
    # No customer-supplied raw key (which GCP cannot rotate) and no local scratch disks.
    assert all("diskEncryptionKey" not in d and d.get("type") != "SCRATCH" for d in disks)


@pytest.mark.parametrize("stage", STAGES)
def test_no_database_is_publicly_reachable(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    instance = one(plan, INSTANCE)
    ip = instance.inputs["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False, instance.urn
    assert not ip.get("authorizedNetworks"), instance.urn
    assert ip["privateNetwork"] == plain(plan.exports["network"])["id"], instance.urn

    values = _values(stage)["network"]
    reserved = one(plan, "gcp:compute/globalAddress:GlobalAddress")
    service_range = ipaddress.ip_network(
        f"{reserved.inputs['address']}/{int(reserved.inputs['prefixLength'])}"
    )
    assert service_range.subnet_of(ipaddress.ip_network(values["cidr"])), reserved.urn
    assert service_range.prefixlen <= 24, reserved.urn
    subnets = [
        ipaddress.ip_network(s.inputs["ipCidrRange"])
        for s in of_type(plan, "gcp:compute/subnetwork:Subnetwork")
    ]
    assert not any(service_range.overlaps(s) for s in subnets), reserved.urn

    # Only the application tier may open connections into the service range.
    egress = [f for f in of_type(plan, FIREWALL) if f.inputs.get("direction") == "EGRESS"]
    allowed = [f for f in egress if f.inputs.get("allows")]
    denied = [f for f in egress if f.inputs.get("denies")]
    assert [f.inputs["targetTags"] for f in allowed] == [[APP_TAG]], [f.urn for f in allowed]
    assert all(f.inputs["destinationRanges"] == [str(service_range)] for f in egress)
    assert denied and denied[0].inputs["priority"] > allowed[0].inputs["priority"]


@pytest.mark.parametrize("stage", STAGES)
def test_no_open_ingress_to_ssh_or_database(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    ingress = [
        f for f in of_type(plan, FIREWALL) if f.inputs.get("direction", "INGRESS") == "INGRESS"
    ]
    assert ingress, [r.urn for r in plan.resources]
    for firewall in ingress:
        sources = set(firewall.inputs.get("sourceRanges", []))
        for rule in firewall.inputs.get("allows", []):
            for port in SENSITIVE_PORTS:
                assert not (_covers(rule, port) and (sources & OPEN_WORLD or not sources)), (
                    f"{firewall.urn} opens port {port} to the world: {firewall.inputs}"
                )
    template = one(plan, TEMPLATE)
    assert not any(n.get("accessConfigs") for n in template.inputs["networkInterfaces"]), (
        f"{template.urn}: instances must not get a public IP"
    )
    assert template.inputs["metadata"]["block-project-ssh-keys"] == "TRUE", template.urn


@pytest.mark.parametrize("stage", STAGES)
def test_labels_carry_stage_and_release(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    release = label_value(plain(plan.exports["release"])["appVersion"])
    assert "." not in release
    labelled = [
        (
            r,
            r.inputs.get("labels")
            or r.inputs.get("userLabels")
            or r.inputs.get("settings", {}).get("userLabels"),
        )
        for r in plan.resources
        if r.custom and r.type.startswith("gcp:")
    ]
    labelled = [(r, labels) for r, labels in labelled if labels is not None]
    assert {r.type for r, _ in labelled} >= {INSTANCE, BUCKET, TEMPLATE}, labelled
    for r, labels in labelled:
        assert labels.get("stageline-stage") == label_value(stage), f"{r.urn}: {labels}"
        assert labels.get("stageline-release") == release, f"{r.urn}: {labels}"


@pytest.mark.parametrize("stage", STAGES)
def test_compute_runs_the_release_artifact(repo_plans: dict[str, StagePlan], stage: str) -> None:
    plan = repo_plans[stage]
    artifact = plain(plan.exports["release"])["artifact"]
    template = one(plan, TEMPLATE)
    assert artifact in template.inputs["metadataStartupScript"], template.urn


@pytest.mark.parametrize("stage", STAGES)
def test_sizes_and_subnets_follow_the_stack_file(
    repo_plans: dict[str, StagePlan], stage: str
) -> None:
    values = _values(stage)
    plan = repo_plans[stage]
    autoscaler = one(plan, "gcp:compute/regionAutoscaler:RegionAutoscaler")
    policy = autoscaler.inputs["autoscalingPolicy"]
    compute = values["compute"]
    assert (policy["minReplicas"], policy["maxReplicas"]) == (
        compute["minCount"],
        compute["maxCount"],
    ), autoscaler.urn
    zones = values["network"]["zoneCount"]
    subnets = of_type(plan, "gcp:compute/subnetwork:Subnetwork")
    assert len(subnets) == 2 * zones, [s.urn for s in subnets]
    private = sorted(
        s.inputs["ipCidrRange"] for s in subnets if s.inputs.get("privateIpGoogleAccess")
    )
    # A stage keeps its private addresses when it changes target.
    assert private == sorted(plan_subnets(values["network"]["cidr"], zones).private)


@pytest.mark.parametrize("stage", STAGES)
def test_bucket_is_private_and_versioned_per_the_spec(
    repo_plans: dict[str, StagePlan], stage: str
) -> None:
    plan = repo_plans[stage]
    bucket = one(plan, BUCKET)
    assert bucket.inputs["uniformBucketLevelAccess"] is True, bucket.urn
    assert bucket.inputs["publicAccessPrevention"] == "enforced", bucket.urn
    expected = _values(stage)["storage"].get("versioning", True)
    assert bucket.inputs["versioning"] == {"enabled": expected}, bucket.urn
    assert bucket.inputs["location"] == _values(stage)["region"], bucket.urn


def test_a_development_stage_is_unprotected(repo_plans: dict[str, StagePlan]) -> None:
    plan = repo_plans[SANDBOX]
    assert not any(r.protect for r in plan.resources), [r.urn for r in plan.resources if r.protect]
    instance = one(plan, INSTANCE)
    assert instance.inputs["deletionProtection"] is False, instance.urn
    assert instance.inputs["settings"]["availabilityType"] == "ZONAL", instance.urn
    assert one(plan, BUCKET).inputs["forceDestroy"] is True


def test_prod_like_settings_set_ha_backups_and_protection(
    plan_edited: Callable[..., StagePlan],
) -> None:
    plan = plan_edited(SANDBOX, {SANDBOX: PROD_LIKE})
    assert plan.ok, plan.error
    instance = one(plan, INSTANCE)
    settings = instance.inputs["settings"]
    assert settings["availabilityType"] == "REGIONAL", instance.urn
    backups = settings["backupConfiguration"]
    assert backups["enabled"] and backups["pointInTimeRecoveryEnabled"], backups
    assert backups["backupRetentionSettings"]["retainedBackups"] == 30, backups
    assert instance.inputs["deletionProtection"] is True, instance.urn
    assert settings["deletionProtectionEnabled"] is True, instance.urn
    assert settings["tier"] == "db-custom-2-7680", instance.urn
    bucket = one(plan, BUCKET)
    assert bucket.inputs["forceDestroy"] is False, bucket.urn
    for r in (instance, one(plan, "gcp:sql/database:Database"), bucket):
        assert r.protect and r.retain_on_delete, r.urn
    logs = one(plan, "gcp:logging/projectBucketConfig:ProjectBucketConfig")
    assert logs.inputs["retentionDays"] == 365, logs.urn


def test_prod_switches_to_gcp_by_target_and_region_alone(
    plan_edited: Callable[..., StagePlan],
) -> None:
    # Its DR replica follows it to the same target (in another region).
    plan = plan_edited(
        "prod",
        {
            "prod": {"target": "gcp", "region": "europe-west1"},
            "prod-dr": {"target": "gcp", "region": "europe-west4"},
        },
    )
    assert plan.ok, plan.error
    assert plain(plan.exports["target"]) == "gcp"
    instance = one(plan, INSTANCE)
    assert instance.inputs["settings"]["availabilityType"] == "REGIONAL", instance.urn
    assert instance.inputs["settings"]["tier"] == "db-custom-4-15360", instance.urn
    assert instance.protect and instance.retain_on_delete, instance.urn
    assert len(of_type(plan, "gcp:compute/subnetwork:Subnetwork")) == 6
