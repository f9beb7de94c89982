"""GCP components built directly under Pulumi mocks, including the per-target overrides the
stack files validate (machine type, tier, instance name); assertions run through Output.apply."""

from __future__ import annotations

import pulumi
import pytest

from components.database import DatabaseArgs
from components.gcp.compute import GcpCompute
from components.gcp.database import GcpDatabase
from components.gcp.network import GcpNetwork
from components.gcp.storage import GcpStorage, GcpStorageArgs
from components.spec import StorageSpec
from tests.unit.args import compute_args, database_args, network_args, storage_args
from tests.unit.recording import after_registration, program_test
from tests.unit.test_azure_components import RecordingMocks, mocks  # noqa: F401 - fixture

ZONES = ("europe-west1-b", "europe-west1-c", "europe-west1-d")


@pytest.mark.parametrize(("nat", "routers"), [("none", 0), ("single", 1), ("per-zone", 1)])
@program_test
def test_network_nat_follows_the_spec(mocks: RecordingMocks, nat: str, routers: int):  # noqa: F811
    net = GcpNetwork("n", network_args(cidr="10.80.0.0/16", zones=ZONES, nat=nat))  # type: ignore[arg-type]

    def check(args: list) -> None:
        urn = args[0]
        assert len(mocks.of_type("routerNat:RouterNat")) == routers, f"{urn}: nat={nat}"
        assert len(mocks.of_type("subnetwork:Subnetwork")) == 6, urn
        reserved = mocks.of_type("globalAddress:GlobalAddress")[0].inputs
        assert (reserved["address"], reserved["prefixLength"]) == ("10.80.80.0", 20), urn

    nat_id = [net.nat.id] if net.nat else []
    return pulumi.Output.all(net.urn, net.network_id, *nat_id).apply(after_registration(check))


@pytest.mark.parametrize(
    ("sku", "machine"), [(None, "e2-small"), ("c3-standard-8", "c3-standard-8")]
)
@program_test
def test_compute_honours_the_machine_type_override(
    mocks: RecordingMocks,  # noqa: F811
    sku: str | None,
    machine: str,
):
    group = GcpCompute(
        "c",
        compute_args(
            size="small",
            min_count=2,
            max_count=4,
            network_id="vpc-1",
            subnet_ids=["s-1", "s-2"],
            ingress_cidr="10.80.0.0/16",
            artifact="registry/app:2.0.0",
            sku=sku,
        ),
    )

    def check(args: list) -> None:
        urn, machine_type, policy = args
        assert machine_type == machine, urn
        assert (policy["min_replicas"], policy["max_replicas"]) == (2, 4), urn

    return pulumi.Output.all(
        group.urn, group.template.machine_type, group.autoscaler.autoscaling_policy
    ).apply(after_registration(check))


def _db_args(**overrides) -> DatabaseArgs:
    base = dict(
        engine_version="16",
        size="medium",
        storage_gb=20,
        network_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.80.128.0/18", "10.80.192.0/18"),
    )
    return database_args(**{**base, **overrides})  # type: ignore[arg-type]


@program_test
def test_database_overrides_and_disabled_backups(mocks: RecordingMocks):  # noqa: F811
    db = GcpDatabase(
        "d",
        _db_args(sku="db-custom-4-15360", backup_retention_days=0),
        instance_name="shop-pg",
    )

    def check(args: list) -> None:
        urn, name, settings, secret = args
        assert name == "shop-pg", urn
        assert settings["tier"] == "db-custom-4-15360", urn
        assert settings["backup_configuration"]["enabled"] is False, urn
        assert settings["availability_type"] == "ZONAL", urn
        assert secret, f"{urn}: the user's password is not a secret"

    i = db.instance
    return pulumi.Output.all(
        db.urn, i.name, i.settings, pulumi.Output.is_secret(db.user.password)
    ).apply(after_registration(check))


@program_test
def test_database_ha_is_regional(mocks: RecordingMocks):  # noqa: F811
    db = GcpDatabase("d", _db_args(high_availability=True, backup_retention_days=14))

    def check(args: list) -> None:
        urn, settings = args
        assert settings["availability_type"] == "REGIONAL", urn
        backups = settings["backup_configuration"]
        assert backups["backup_retention_settings"]["retained_backups"] == 14, urn
        assert backups["transaction_log_retention_days"] == 7, urn

    return pulumi.Output.all(db.urn, db.instance.settings).apply(after_registration(check))


def test_storage_needs_a_location_or_a_provider(mocks: RecordingMocks) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="location"):
        GcpStorage("s", storage_args())


@program_test
def test_storage_takes_an_explicit_location(mocks: RecordingMocks):  # noqa: F811
    store = GcpStorage("s", GcpStorageArgs(spec=StorageSpec(versioning=False), location="EU"))

    def check(args: list) -> None:
        urn, location, versioning = args
        assert location == "EU", urn
        assert versioning["enabled"] is False, urn

    return pulumi.Output.all(store.urn, store.bucket.location, store.bucket.versioning).apply(
        after_registration(check)
    )
