"""Azure components built directly under Pulumi mocks, including the per-target overrides the
stack files validate (SKUs, the storage account name); assertions run through Output.apply."""

from __future__ import annotations

import pulumi
import pytest

from components.azure.compute import AzureCompute
from components.azure.database import AzureDatabase
from components.azure.naming import DATABASE_SUBNET
from components.azure.network import AzureNetwork
from components.azure.storage import AzureStorage
from components.compute import ComputeArgs
from components.database import DatabaseArgs
from components.network import plan_subnets
from tests.unit.args import compute_args, database_args, network_args, storage_args
from tests.unit.recording import RecordingMocks, after_registration, program_test, record

ZONES = ("1", "2", "3")


@pytest.fixture
def mocks() -> RecordingMocks:
    return record().mocks  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("nat", "gateways", "pinned"), [("none", 0, False), ("single", 1, False), ("per-zone", 3, True)]
)
@program_test
def test_network_nat_and_subnets_follow_the_spec(
    mocks: RecordingMocks, nat: str, gateways: int, pinned: bool
):
    net = AzureNetwork("n", network_args(cidr="10.60.0.0/16", zones=ZONES, nat=nat))  # type: ignore[arg-type]
    plan = plan_subnets("10.60.0.0/16", 3)

    def check(args: list) -> None:
        urn, _ = args
        nats = mocks.of_type("network:NatGateway")
        assert len(nats) == gateways, f"{urn}: {len(nats)} NAT gateways for nat={nat}"
        assert all(bool(n.inputs.get("zones")) is pinned for n in nats), urn
        subnets = {s.name: s.inputs for s in mocks.of_type("network:Subnet")}
        private = [subnets[f"n-private-{i}"] for i in range(3)]
        assert [s["addressPrefix"] for s in private] == list(plan.private), urn
        assert all(("natGateway" in s) is bool(gateways) for s in private), urn
        database = subnets["n-database"]
        assert database["subnetName"] == DATABASE_SUBNET, urn
        assert (
            database["delegations"][0]["serviceName"] == "Microsoft.DBforPostgreSQL/flexibleServers"
        )

    return pulumi.Output.all(net.urn, net.network_id).apply(after_registration(check))


def _compute_args(**overrides) -> ComputeArgs:
    base = dict(
        size="small",
        min_count=2,
        max_count=5,
        network_id="vnet-1",
        subnet_ids=["s-1", "s-2", "s-3"],
        ingress_cidr="10.60.0.0/16",
        artifact="registry/app:2.0.0",
    )
    return compute_args(**{**base, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sku", "size"), [(None, "Standard_B2s"), ("Standard_D4as_v5", "Standard_D4as_v5")]
)
@program_test
def test_compute_size_spreads_over_zones_and_honours_the_sku_override(
    mocks: RecordingMocks, sku: str | None, size: str
):
    group = AzureCompute("c", _compute_args(sku=sku))

    def check(args: list) -> None:
        urn, sku_out, zones, profiles = args
        assert sku_out["name"] == size, f"{urn}: {sku_out}"
        assert zones == list(ZONES), urn
        assert profiles[0]["capacity"]["maximum"] == "5", urn

    vmss = group.scale_set
    return pulumi.Output.all(group.urn, vmss.sku, vmss.zones, group.autoscale.profiles).apply(
        after_registration(check)
    )


def _db_args(**overrides) -> DatabaseArgs:
    base = dict(
        engine_version="16",
        size="small",
        storage_gb=20,
        network_id="vnet-1",
        subnet_ids=["s-1", "s-2"],
        client_cidrs=("10.60.128.0/18", "10.60.192.0/18"),
        backup_retention_days=7,
    )
    return database_args(**{**base, **overrides})  # type: ignore[arg-type]


@program_test
def test_database_generates_a_password_and_stays_unlocked(mocks: RecordingMocks):
    db = AzureDatabase("d", _db_args())

    def check(args: list) -> None:
        urn, storage, sku = args
        assert mocks.of_type("randomPassword:RandomPassword"), f"{urn}: no RandomPassword"
        assert not mocks.of_type("ManagementLockByScope"), urn
        assert storage["storage_size_gb"] == 32, f"{urn}: 20 GiB rounds up to the 32 GiB disk"
        assert sku["tier"] == "Burstable", urn

    server = db.server
    return pulumi.Output.all(
        db.urn,
        server.storage,
        server.sku,
    ).apply(after_registration(check))


@program_test
def test_database_follows_ha_protection_and_the_sku_override(mocks: RecordingMocks):
    db = AzureDatabase(
        "d",
        _db_args(
            sku="Standard_E4ds_v5",
            password=pulumi.Output.secret("from-config"),
            high_availability=True,
            deletion_protection=True,
            backup_retention_days=30,
            protect=True,
        ),
    )

    def check(args: list) -> None:
        urn, sku, ha, backup, _ = args
        assert sku == {"name": "Standard_E4ds_v5", "tier": "MemoryOptimized"}, urn
        assert ha["mode"] == "ZoneRedundant", urn
        assert backup["backup_retention_days"] == 30, urn
        assert not mocks.of_type("randomPassword:RandomPassword"), urn
        lock = mocks.of_type("ManagementLockByScope")
        assert lock and lock[0].inputs["level"] == "CanNotDelete", urn

    server = db.server
    assert db.lock is not None
    return pulumi.Output.all(
        db.urn, server.sku, server.high_availability, server.backup, db.lock.id
    ).apply(after_registration(check))


@pytest.mark.parametrize("versioning", [True, False])
@program_test
def test_storage_derives_a_valid_account_name(mocks: RecordingMocks, versioning: bool):
    store = AzureStorage("Shop_Prod.storage", storage_args(versioning=versioning, retention_days=9))

    def check(args: list) -> None:
        urn, name, enabled, policy = args
        # Letters and digits of the component name, then the mocks' random "a1b2c3": 3 to 24
        # lowercase letters and digits, as Azure requires.
        assert name == "shopprodstoragea1b2c3", f"{urn}: {name}"
        assert mocks.of_type("randomString:RandomString"), urn
        assert enabled is versioning, urn
        action = policy["rules"][0]["definition"]["actions"]["version"]["delete"]
        assert action["days_after_creation_greater_than"] == 9, urn

    return pulumi.Output.all(
        store.urn,
        store.account.name.apply(
            lambda _: mocks.of_type("StorageAccount")[0].inputs["accountName"]
        ),
        store.service.is_versioning_enabled,
        store.lifecycle.policy,
    ).apply(after_registration(check))


@program_test
def test_storage_honours_the_account_name_override(mocks: RecordingMocks):
    store = AzureStorage("s", storage_args(protect=True), account_name="acmeshop01")

    def check(args: list) -> None:
        urn, _ = args
        account = mocks.of_type("StorageAccount")[0]
        assert account.inputs["accountName"] == "acmeshop01", urn
        assert not mocks.of_type("randomString:RandomString"), urn

    return pulumi.Output.all(store.urn, store.bucket_name).apply(after_registration(check))
