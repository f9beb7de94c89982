"""The contract check: what a stage exports, and what it accepts from its upstream.

`read_upstream` is driven with a stand-in StackReference that answers from a dict, so each
case changes one upstream output and expects exactly one error, written out whole.
"""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi import Output, StackReferenceOutputDetails

from components import contract
from components.contract import (
    CONTRACT_KEYS,
    KEY_COMPUTE,
    KEY_DATABASE,
    KEY_INGRESS,
    KEY_NETWORK,
    KEY_OBSERVABILITY,
    KEY_REGION,
    KEY_RELEASE,
    KEY_REPLICATION,
    KEY_SCHEMA_VERSION,
    KEY_STAGE,
    KEY_STORAGE,
    KEY_TARGET,
    SCHEMA_VERSION,
    ComputeOutput,
    ContractOutputs,
    DatabaseOutput,
    IngressOutput,
    NetworkOutput,
    ObservabilityOutput,
    ReleaseManifest,
    ReleaseOutput,
    StorageOutput,
    is_compatible,
)
from components.environment import EnvironmentTemplate
from components.spec import EnvironmentSpec, parse_spec
from stageline.config import ReleasePin, StageConfig
from stageline.promotion import PromotionError, Upstream, read_upstream, resolve_release

RELEASE = {
    "appVersion": "2.3.4",
    "artifact": "ghcr.io/acme/shop:2.3.4",
    "templateRevision": "tpl-1",
}
REF = "organization/stageline/test"
FIX = "run `stageline up test` (or `pulumi up -s test`), then retry"


def spec() -> EnvironmentSpec:
    parsed, issues = parse_spec({"network": {"cidr": "10.1.0.0/16"}})
    assert parsed is not None, issues
    return parsed


def stage_config(pin: ReleasePin | None = None, upstream: str | None = "test") -> StageConfig:
    return StageConfig(
        stack="qa",
        stage="qa",
        tier="preproduction",
        target="aws",
        region="us-east-1",
        spec=spec(),
        promotes_from=upstream,
        release_pin=pin,
    )


# --- the schema version ------------------------------------------------------------------

MAJOR = SCHEMA_VERSION.split(".")[0]


@pytest.mark.parametrize("version", [SCHEMA_VERSION, f"{MAJOR}.0", f"{MAJOR}.7", f"{MAJOR}.7.1"])
def test_same_major_is_compatible(version: str) -> None:
    assert is_compatible(version)


@pytest.mark.parametrize(
    "version",
    [f"{int(MAJOR) + 1}.0", f"{MAJOR}0.0", f"0{MAJOR}.0", MAJOR, "", None, float(SCHEMA_VERSION)],
    ids=repr,
)
def test_another_major_or_no_version_is_incompatible(version: object) -> None:
    assert not is_compatible(version)


# --- the release manifest ----------------------------------------------------------------


def test_release_round_trips() -> None:
    manifest = ReleaseManifest("2.3.4", "ghcr.io/acme/shop:2.3.4", "tpl-1")
    assert manifest.to_output() == RELEASE
    assert ReleaseManifest.from_output(RELEASE) == manifest


def test_release_values_are_read_as_text() -> None:
    raw = {"appVersion": 2, "artifact": "a", "templateRevision": 7}
    assert ReleaseManifest.from_output(raw) == ReleaseManifest("2", "a", "7")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["2.3.4"], "release output is list, not an object"),
        ("2.3.4", "release output is str, not an object"),
        ({"artifact": "a", "templateRevision": "t"}, "release output lacks appVersion"),
        ({"appVersion": "1", "templateRevision": "t"}, "release output lacks artifact"),
        ({"appVersion": "1", "artifact": "a"}, "release output lacks templateRevision"),
        ({**RELEASE, "artifact": ""}, "release output lacks artifact"),
        ({}, "release output lacks appVersion, artifact, templateRevision"),
    ],
    ids=repr,
)
def test_malformed_release_is_refused(raw: Any, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        ReleaseManifest.from_output(raw)
    assert str(raised.value) == message


# --- what a stage exports ----------------------------------------------------------------


def test_contract_outputs_maps_every_component_output() -> None:
    env = SimpleNamespace(
        network=SimpleNamespace(
            network_id="vpc-1",
            cidr="10.1.0.0/16",
            private_subnet_ids=["p"],
            public_subnet_ids=["q"],
        ),
        database=SimpleNamespace(
            resource_id="arn:db", endpoint="db.host", port=5432, db_name="app", engine_version="16"
        ),
        storage=SimpleNamespace(resource_id="arn:s3", bucket_name="bkt"),
        observability=SimpleNamespace(log_group_name="/logs", alarm_count=2),
        compute=SimpleNamespace(group_name="asg-1"),
        ingress=SimpleNamespace(endpoint="http://lb/", address="lb"),
        site="us-east-1",
        compute_min_count=3,
    )
    env.database.admin_user = "stageline"
    release = ReleaseManifest("2.3.4", "ghcr.io/acme/shop:2.3.4", "tpl-1")

    async def export() -> tuple[dict[str, Any], bool, Any]:
        # Outputs live on the loop that makes them.
        env.database.password = Output.from_input("pw")
        found = dict(EnvironmentTemplate.contract_outputs(env, "qa", "aws", "us-east-1", release))  # type: ignore[arg-type]
        replication = found.pop("replication")
        return found, await replication.is_secret(), await replication.future()

    outputs, secret, replication = asyncio.run(export())
    # The password a replica streams with leaves the stage only as a secret.
    assert secret and replication == {"user": "stageline", "password": "pw"}
    assert outputs == {
        "schemaVersion": SCHEMA_VERSION,
        "stage": "qa",
        "target": "aws",
        "region": "us-east-1",
        "release": RELEASE,
        "network": {
            "id": "vpc-1",
            "cidr": "10.1.0.0/16",
            "site": "us-east-1",
            "privateSubnetIds": ["p"],
            "publicSubnetIds": ["q"],
        },
        "database": {
            "resourceId": "arn:db",
            "endpoint": "db.host",
            "port": 5432,
            "name": "app",
            "engineVersion": "16",
        },
        "storage": {"resourceId": "arn:s3", "bucket": "bkt", "region": "us-east-1"},
        "observability": {"logGroup": "/logs", "alarmCount": 2},
        "compute": {"group": "asg-1", "minCount": 3},
        "ingress": {"endpoint": "http://lb/", "address": "lb", "healthPath": "/healthz"},
    }
    assert (*outputs, "replication") == CONTRACT_KEYS


def test_every_section_has_exactly_its_typed_keys() -> None:
    env = SimpleNamespace(
        network=SimpleNamespace(
            network_id="n", cidr="10.1.0.0/16", private_subnet_ids=[], public_subnet_ids=[]
        ),
        database=SimpleNamespace(
            resource_id="d", endpoint="h", port=5432, db_name="app", engine_version="16"
        ),
        storage=SimpleNamespace(resource_id="s", bucket_name="b"),
        observability=SimpleNamespace(log_group_name="/l", alarm_count=0),
        compute=SimpleNamespace(group_name="g"),
        ingress=SimpleNamespace(endpoint="http://i/", address="i"),
        site="r",
        compute_min_count=1,
    )
    env.database.admin_user = "stageline"
    release = ReleaseManifest("1", "a", "t")

    async def export() -> Any:
        env.database.password = Output.from_input("pw")
        return EnvironmentTemplate.contract_outputs(env, "qa", "aws", "r", release)  # type: ignore[arg-type]

    outputs = asyncio.run(export())
    sections = {
        KEY_RELEASE: ReleaseOutput,
        KEY_NETWORK: NetworkOutput,
        KEY_DATABASE: DatabaseOutput,
        KEY_STORAGE: StorageOutput,
        KEY_OBSERVABILITY: ObservabilityOutput,
        KEY_COMPUTE: ComputeOutput,
        KEY_INGRESS: IngressOutput,
    }
    for key, schema in sections.items():
        assert list(outputs[key]) == list(schema.__annotations__), key  # type: ignore[literal-required]


def test_the_output_keys_are_the_schemas() -> None:
    keys = [
        KEY_SCHEMA_VERSION,
        KEY_STAGE,
        KEY_TARGET,
        KEY_REGION,
        KEY_RELEASE,
        KEY_NETWORK,
        KEY_DATABASE,
        KEY_STORAGE,
        KEY_OBSERVABILITY,
        KEY_COMPUTE,
        KEY_INGRESS,
        KEY_REPLICATION,
    ]
    assert list(ContractOutputs.__annotations__) == keys


def test_the_contract_is_a_pure_schema() -> None:
    """contract.py imports nothing of stageline's: the environment and the operator import it."""
    source = Path(contract.__file__).read_text()
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    ours = [m for m in imported if m and m.split(".")[0] in {"components", "stageline"}]
    assert ours == [], f"{contract.__file__} imports {ours}"


# --- what a stage accepts from its upstream ----------------------------------------------


class FakeReference:
    """Answers get_output_details from a dict; `secret` keys come back as secret values."""

    def __init__(self, outputs: dict[str, Any], secret: frozenset[str] = frozenset()) -> None:
        self.outputs = outputs
        self.secret = secret

    async def get_output_details(self, key: str) -> StackReferenceOutputDetails:
        value = self.outputs.get(key)
        if key in self.secret:
            return StackReferenceOutputDetails(secret_value=value)
        return StackReferenceOutputDetails(value=value)


def read(outputs: dict[str, Any], secret: frozenset[str] = frozenset()) -> Upstream:
    return asyncio.run(read_upstream(stage_config(), FakeReference(outputs, secret), REF))  # type: ignore[arg-type]


GOOD = {"schemaVersion": SCHEMA_VERSION, "release": RELEASE}


def test_a_compatible_upstream_is_read() -> None:
    expected = Upstream("test", REF, SCHEMA_VERSION, ReleaseManifest.from_output(RELEASE))
    assert read(GOOD) == expected
    # Secret outputs are read the same way.
    assert read(GOOD, frozenset({"release", "schemaVersion"})) == expected


def missing(key: str) -> str:
    return (
        f"stage 'qa' promotes from 'test', but upstream stack {REF!r} has no output {key!r} (it "
        f"was never deployed, or not with stageline). Fix: {FIX}."
    )


UPSTREAM_CASES = [
    ("nothing exported", {}, missing("schemaVersion")),
    ("no release", {"schemaVersion": SCHEMA_VERSION}, missing("release")),
    (
        "another major",
        {**GOOD, "schemaVersion": "2.0"},
        f"stage 'qa' cannot read upstream stack {REF!r}: its contract schema '2.0' is "
        f"incompatible with {SCHEMA_VERSION} that this template reads. Fix: deploy 'test' with "
        f"this template revision: {FIX}.",
    ),
    (
        "malformed release",
        {**GOOD, "release": {"appVersion": "1"}},
        f"stage 'qa': upstream stack {REF!r} exports a malformed release (release output lacks "
        f"artifact, templateRevision). Fix: {FIX}.",
    ),
]


@pytest.mark.parametrize(
    ("outputs", "message"), [c[1:] for c in UPSTREAM_CASES], ids=[c[0] for c in UPSTREAM_CASES]
)
def test_an_unusable_upstream_is_refused(outputs: dict[str, Any], message: str) -> None:
    with pytest.raises(PromotionError) as raised:
        read(outputs)
    assert str(raised.value) == message


def test_a_pin_wins_over_the_upstream() -> None:
    upstream = Upstream("test", REF, SCHEMA_VERSION, ReleaseManifest("9", "b", "tpl-9"))
    pinned = stage_config(ReleasePin("0.9.1", "ghcr.io/acme/shop:0.9.1"))
    resolved = resolve_release(pinned, upstream, "tpl-now")
    assert (resolved.manifest, resolved.source) == (
        ReleaseManifest("0.9.1", "ghcr.io/acme/shop:0.9.1", "tpl-now"),
        "pinned",
    )
    with_revision = stage_config(ReleasePin("0.9.1", "a", "tpl-old"))
    assert resolve_release(with_revision, None, "tpl-now").manifest.template_revision == "tpl-old"


def test_without_a_pin_the_upstream_release_is_deployed() -> None:
    upstream = Upstream("test", REF, SCHEMA_VERSION, ReleaseManifest("9", "b", "tpl-9"))
    resolved = resolve_release(stage_config(), upstream, "tpl-now")
    assert (resolved.manifest, resolved.source) == (upstream.release, "promoted from test")


def test_neither_pin_nor_upstream_is_an_error() -> None:
    with pytest.raises(PromotionError) as raised:
        resolve_release(stage_config(upstream=None), None, "tpl-now")
    assert str(raised.value) == "stage 'qa' has neither a pinned release nor an upstream"
