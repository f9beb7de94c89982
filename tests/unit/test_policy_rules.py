"""The policies, table-driven and without mocks: for each rule a resource that passes and one
that only that rule catches, evaluated through the same entry point as `stageline plan`."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from policy.evaluate import evaluate, is_data
from policy.facts import SizeReading, TargetPolicy
from policy.model import UNKNOWN, Resource, Secret, StageContext
from policy.rules import plaintext_secret, policy_named, size_within_tier

DEV = StageContext(stage="dev", tier="development", region="us-east-2")
PROD = StageContext(stage="prod", tier="production", region="us-east-1")
DR = StageContext(
    stage="prod-dr", tier="production", region="us-west-2", primary_region="us-east-1"
)
SAME_REGION_DR = StageContext(
    stage="prod-dr", tier="production", region="us-east-1", primary_region="us-east-1"
)
AWS_TAGS = {"stageline-stage": "dev"}
PROD_TAGS = {"stageline-stage": "prod"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def res(typ: str, inputs: dict[str, Any], protect: bool = False) -> Resource:
    return Resource(
        type=typ, name="r", inputs=inputs, urn=f"urn:pulumi:s::p::{typ}::r", protect=protect
    )


RDS = "aws:rds/instance:Instance"
GOOD_RDS = {
    "storageEncrypted": True,
    "publiclyAccessible": False,
    "deletionProtection": True,
    "backupRetentionPeriod": 30.0,
    "instanceClass": "db.m6g.xlarge",
    "tags": PROD_TAGS,
}
SG = "aws:ec2/securityGroup:SecurityGroup"
NSG = "azure-native:network:NetworkSecurityGroup"
FIREWALL = "gcp:compute/firewall:Firewall"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
VOLUME = "pulumi-python:dynamic/libvirt:Volume"
DOMAIN = "pulumi-python:dynamic/libvirt:Domain"

# (case, context, resource, the policies expected to report: exactly these)
CASES: list[tuple[str, StageContext, Resource, set[str]]] = [
    ("rds as the template makes it", PROD, res(RDS, GOOD_RDS, protect=True), set()),
    (
        "rds unencrypted",
        PROD,
        res(RDS, {**GOOD_RDS, "storageEncrypted": False}, True),
        {"encryption-at-rest"},
    ),
    (
        "rds public",
        PROD,
        res(RDS, {**GOOD_RDS, "publiclyAccessible": True}, True),
        {"no-public-database"},
    ),
    (
        "rds prod without deletion protection",
        PROD,
        res(RDS, {**GOOD_RDS, "deletionProtection": False}, True),
        {"production-data-protection"},
    ),
    (
        "rds prod without backups",
        PROD,
        res(RDS, {**GOOD_RDS, "backupRetentionPeriod": 0.0}, True),
        {"production-data-protection"},
    ),
    ("rds prod not protected", PROD, res(RDS, GOOD_RDS), {"production-data-protection"}),
    (
        "rds dev may skip protection",
        DEV,
        res(
            RDS,
            {
                **GOOD_RDS,
                "deletionProtection": False,
                "tags": AWS_TAGS,
                "instanceClass": "db.t4g.micro",
            },
        ),
        set(),
    ),
    (
        "rds without the stage tag",
        PROD,
        res(RDS, {**GOOD_RDS, "tags": {"managed-by": "stageline"}}, True),
        {"stage-tag"},
    ),
    (
        "rds tagged for another stage",
        PROD,
        res(RDS, {**GOOD_RDS, "tags": AWS_TAGS}, True),
        {"stage-tag"},
    ),
    (
        "rds xsmall in prod",
        PROD,
        res(RDS, {**GOOD_RDS, "instanceClass": "db.t4g.micro"}, True),
        {"size-within-tier"},
    ),
    (
        "rds unknown during a preview",
        PROD,
        res(RDS, {**GOOD_RDS, "storageEncrypted": UNKNOWN}, True),
        set(),
    ),
    (
        "sg from inside",
        DEV,
        res(
            SG,
            {
                "ingress": [
                    {
                        "cidrBlocks": ["10.0.0.0/16"],
                        "fromPort": 22.0,
                        "toPort": 22.0,
                        "protocol": "tcp",
                    }
                ],
                "tags": AWS_TAGS,
            },
        ),
        set(),
    ),
    (
        "sg web open to all",
        DEV,
        res(
            SG,
            {
                "ingress": [
                    {
                        "cidrBlocks": ["0.0.0.0/0"],
                        "fromPort": 443.0,
                        "toPort": 443.0,
                        "protocol": "tcp",
                    }
                ],
                "tags": AWS_TAGS,
            },
        ),
        set(),
    ),
    (
        "sg ssh open to all",
        DEV,
        res(
            SG,
            {
                "ingress": [
                    {
                        "cidrBlocks": ["0.0.0.0/0"],
                        "fromPort": 22.0,
                        "toPort": 22.0,
                        "protocol": "tcp",
                    }
                ],
                "tags": AWS_TAGS,
            },
        ),
        {"no-open-admin-ingress"},
    ),
    (
        "sg postgres in a range, ipv6",
        DEV,
        res(
            SG,
            {
                "ingress": [
                    {
                        "ipv6CidrBlocks": ["::/0"],
                        "fromPort": 5000.0,
                        "toPort": 6000.0,
                        "protocol": "tcp",
                    }
                ],
                "tags": AWS_TAGS,
            },
        ),
        {"no-open-admin-ingress"},
    ),
    (
        "sg all protocols",
        DEV,
        res(
            SG,
            {
                "ingress": [
                    {"cidrBlocks": ["0.0.0.0/0"], "fromPort": 0.0, "toPort": 0.0, "protocol": "-1"}
                ],
                "tags": AWS_TAGS,
            },
        ),
        {"no-open-admin-ingress"},
    ),
    (
        "sg rule resource",
        DEV,
        res(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            {
                "type": "ingress",
                "cidrBlocks": ["0.0.0.0/0"],
                "fromPort": 5432.0,
                "toPort": 5432.0,
                "protocol": "tcp",
            },
        ),
        {"no-open-admin-ingress"},
    ),
    (
        "sg egress rule resource",
        DEV,
        res(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            {
                "type": "egress",
                "cidrBlocks": ["0.0.0.0/0"],
                "fromPort": 5432.0,
                "toPort": 5432.0,
                "protocol": "tcp",
            },
        ),
        set(),
    ),
    (
        "vpc ingress rule",
        DEV,
        res(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {
                "cidrIpv4": "0.0.0.0/0",
                "fromPort": 22.0,
                "toPort": 22.0,
                "ipProtocol": "tcp",
                "tags": AWS_TAGS,
            },
        ),
        {"no-open-admin-ingress"},
    ),
    (
        "nsg from the private tier",
        DEV,
        res(
            NSG,
            {
                "securityRules": [
                    {
                        "access": "Allow",
                        "direction": "Inbound",
                        "destinationPortRange": "5432",
                        "sourceAddressPrefixes": ["10.60.128.0/18"],
                    }
                ],
                "tags": {"stageline-stage": "dev"},
            },
        ),
        set(),
    ),
    (
        "nsg deny from anywhere",
        DEV,
        res(
            NSG,
            {
                "securityRules": [
                    {
                        "access": "Deny",
                        "direction": "Inbound",
                        "destinationPortRange": "*",
                        "sourceAddressPrefix": "*",
                    }
                ],
                "tags": {"stageline-stage": "dev"},
            },
        ),
        set(),
    ),
    (
        "nsg ssh from Internet",
        DEV,
        res(
            NSG,
            {
                "securityRules": [
                    {
                        "access": "Allow",
                        "direction": "Inbound",
                        "destinationPortRanges": ["20-23"],
                        "sourceAddressPrefix": "Internet",
                    }
                ],
                "tags": {"stageline-stage": "dev"},
            },
        ),
        {"no-open-admin-ingress"},
    ),
    (
        "gcp firewall inside",
        DEV,
        res(
            FIREWALL,
            {"allows": [{"ports": ["8080"], "protocol": "tcp"}], "sourceRanges": ["10.80.0.0/16"]},
        ),
        set(),
    ),
    (
        "gcp firewall egress",
        DEV,
        res(
            FIREWALL,
            {
                "direction": "EGRESS",
                "allows": [{"ports": ["5432"], "protocol": "tcp"}],
                "sourceRanges": ["0.0.0.0/0"],
            },
        ),
        set(),
    ),
    (
        "gcp firewall postgres open",
        DEV,
        res(
            FIREWALL,
            {"allows": [{"ports": ["5432"], "protocol": "tcp"}], "sourceRanges": ["0.0.0.0/0"]},
        ),
        {"no-open-admin-ingress"},
    ),
    (
        "gcp firewall every tcp port",
        DEV,
        res(FIREWALL, {"allows": [{"protocol": "tcp"}], "sourceRanges": ["0.0.0.0/0"]}),
        {"no-open-admin-ingress"},
    ),
    (
        "s3 sse kms",
        DEV,
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
        ),
        set(),
    ),
    (
        "s3 sse without algorithm",
        DEV,
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {"rules": [{"bucketKeyEnabled": True}]},
        ),
        {"encryption-at-rest"},
    ),
    (
        "s3 bucket prod force destroy",
        PROD,
        res("aws:s3/bucket:Bucket", {"forceDestroy": True, "tags": PROD_TAGS}, True),
        {"production-data-protection"},
    ),
    (
        "s3 bucket inline sse empty",
        DEV,
        res(
            "aws:s3/bucket:Bucket",
            {"serverSideEncryptionConfiguration": {"rules": []}, "tags": AWS_TAGS},
        ),
        {"encryption-at-rest"},
    ),
    (
        "launch template encrypted disk",
        DEV,
        res(
            LT,
            {
                "blockDeviceMappings": [{"ebs": {"encrypted": "true"}}],
                "tags": AWS_TAGS,
                "instanceType": "t3.micro",
            },
        ),
        set(),
    ),
    (
        "launch template plain disk",
        DEV,
        res(LT, {"blockDeviceMappings": [{"ebs": {"encrypted": "false"}}], "tags": AWS_TAGS}),
        {"encryption-at-rest"},
    ),
    (
        "ec2 instance plain root",
        DEV,
        res(
            "aws:ec2/instance:Instance", {"rootBlockDevice": {"encrypted": False}, "tags": AWS_TAGS}
        ),
        {"encryption-at-rest"},
    ),
    (
        "launch template reads the password at boot",
        DEV,
        res(
            LT,
            {
                "userData": b64(
                    "DB_PASSWORD=$(aws secretsmanager get-secret-value "
                    "--secret-id arn:aws:secretsmanager:r:1:secret:db)\n"
                ),
                "tags": AWS_TAGS,
            },
        ),
        set(),
    ),
    (
        "launch template with a password in plain",
        DEV,
        res(LT, {"userData": b64("export DB_PASSWORD=hunter2hunter2\n"), "tags": AWS_TAGS}),
        {"no-plaintext-boot-secret"},
    ),
    (
        "azure custom data with a password",
        DEV,
        res(
            "azure-native:compute:VirtualMachineScaleSet",
            {
                "virtualMachineProfile": {
                    "osProfile": {"customData": b64("#cloud-config\npassword: s3cretpass\n")}
                },
                "tags": {"stageline-stage": "dev"},
            },
        ),
        {"no-plaintext-boot-secret"},
    ),
    (
        "azure custom data marked secret",
        DEV,
        res(
            "azure-native:compute:VirtualMachineScaleSet",
            {
                "virtualMachineProfile": Secret(
                    {"osProfile": {"customData": b64("password: s3cretpass\n")}}
                ),
                "tags": {"stageline-stage": "dev"},
            },
        ),
        set(),
    ),
    (
        "gcp startup script with a key",
        DEV,
        res(
            "gcp:compute/instanceTemplate:InstanceTemplate",
            {
                "metadata": {"startup-script": "-----BEGIN RSA PRIVATE KEY-----\n"},
                "labels": {"stageline-stage": "dev"},
            },
        ),
        {"no-plaintext-boot-secret"},
    ),
    (
        "libvirt seed marked secret",
        DEV,
        res(VOLUME, {"cloudInit": Secret({"userData": "DATABASE_PASSWORD=abcdefgh"})}),
        set(),
    ),
    (
        "libvirt seed in plain",
        DEV,
        res(VOLUME, {"cloudInit": {"hostname": "h", "userData": "DATABASE_PASSWORD=abcdefgh\n"}}),
        {"no-plaintext-boot-secret"},
    ),
    (
        "libvirt data volume protected in prod",
        PROD,
        res(VOLUME, {"capacityGb": 2.0}, protect=True),
        set(),
    ),
    (
        "libvirt data volume unprotected in prod",
        PROD,
        res(VOLUME, {"capacityGb": 2.0}),
        {"production-data-protection"},
    ),
    (
        "libvirt root overlay unprotected in prod",
        PROD,
        res(VOLUME, {"backing": "/pool/base.qcow2"}),
        set(),
    ),
    (
        "libvirt seed whose user data is a secret",
        DEV,
        res(VOLUME, {"cloudInit": {"userData": Secret("DATABASE_PASSWORD=abcdefgh")}}),
        set(),
    ),
    (
        "libvirt domain with memory unknown during a preview",
        DEV,
        res(DOMAIN, {"vcpus": 8.0, "memoryMib": UNKNOWN, "role": "app"}),
        set(),
    ),
    (
        "libvirt domain with vcpus unknown during a preview",
        DEV,
        res(DOMAIN, {"vcpus": UNKNOWN, "memoryMib": 8192.0, "role": "app"}),
        set(),
    ),
    (
        "libvirt boot image unprotected in prod",
        PROD,
        res(VOLUME, {"source": "/img/disk.qcow2"}),
        set(),
    ),
    (
        "libvirt domain small in dev",
        DEV,
        res(DOMAIN, {"vcpus": 1.0, "memoryMib": 1024.0, "role": "app"}),
        set(),
    ),
    (
        "libvirt domain xlarge in dev",
        DEV,
        res(DOMAIN, {"vcpus": 8.0, "memoryMib": 8192.0, "role": "app"}),
        {"size-within-tier"},
    ),
    (
        "libvirt ingress proxy has one size",
        PROD,
        res(DOMAIN, {"vcpus": 1.0, "memoryMib": 512.0, "role": "ingress"}),
        set(),
    ),
    (
        "azure server public",
        DEV,
        res(
            "azure-native:dbforpostgresql:Server",
            {"network": {"publicNetworkAccess": "Enabled"}, "tags": {"stageline-stage": "dev"}},
        ),
        {"no-public-database"},
    ),
    (
        "azure server prod without backups",
        PROD,
        res(
            "azure-native:dbforpostgresql:Server",
            {
                "backup": {"backupRetentionDays": 0.0},
                "sku": {"name": "Standard_D4ds_v5"},
                "tags": PROD_TAGS,
            },
            True,
        ),
        {"production-data-protection"},
    ),
    (
        "azure firewall rule open",
        DEV,
        res(
            "azure-native:dbforpostgresql:FirewallRule",
            {"startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"},
        ),
        {"no-public-database"},
    ),
    (
        "azure storage blob unencrypted",
        DEV,
        res(
            "azure-native:storage:StorageAccount",
            {
                "encryption": {"services": {"blob": {"enabled": False}}},
                "tags": {"stageline-stage": "dev"},
            },
        ),
        {"encryption-at-rest"},
    ),
    (
        "azure server unknown key type",
        DEV,
        res(
            "azure-native:dbforpostgresql:Server",
            {"dataEncryption": {"type": "None"}, "tags": {"stageline-stage": "dev"}},
        ),
        {"encryption-at-rest"},
    ),
    (
        "gcp sql private",
        DEV,
        res(
            "gcp:sql/databaseInstance:DatabaseInstance",
            {
                "settings": {
                    "ipConfiguration": {"ipv4Enabled": False},
                    "userLabels": {"stageline-stage": "dev"},
                }
            },
        ),
        set(),
    ),
    (
        "gcp sql public ip",
        DEV,
        res(
            "gcp:sql/databaseInstance:DatabaseInstance",
            {
                "settings": {
                    "ipConfiguration": {"ipv4Enabled": True},
                    "userLabels": {"stageline-stage": "dev"},
                }
            },
        ),
        {"no-public-database"},
    ),
    (
        "gcp sql authorizes everyone",
        DEV,
        res(
            "gcp:sql/databaseInstance:DatabaseInstance",
            {
                "settings": {
                    "ipConfiguration": {"authorizedNetworks": [{"value": "0.0.0.0/0"}]},
                    "userLabels": {"stageline-stage": "dev"},
                }
            },
        ),
        {"no-public-database"},
    ),
    (
        "gcp sql prod without backups",
        PROD,
        res(
            "gcp:sql/databaseInstance:DatabaseInstance",
            {
                "deletionProtection": True,
                "settings": {
                    "deletionProtectionEnabled": True,
                    "backupConfiguration": {"enabled": False},
                    "tier": "db-custom-4-15360",
                    "userLabels": PROD_TAGS,
                },
            },
            True,
        ),
        {"production-data-protection"},
    ),
    (
        "gcp bucket without labels",
        DEV,
        res("gcp:storage/bucket:Bucket", {"location": "EU"}),
        {"stage-tag"},
    ),
    (
        "asg tags as a list",
        DEV,
        res(
            "aws:autoscaling/group:Group",
            {"tags": [{"key": "stageline-stage", "value": "dev", "propagateAtLaunch": True}]},
        ),
        set(),
    ),
    ("untaggable type needs no tag", DEV, res("aws:ec2/route:Route", {}), set()),
    ("dr stage in another region", DR, res("pulumi:pulumi:Stack", {}), set()),
    (
        "dr stage in its primary's region",
        SAME_REGION_DR,
        res("pulumi:pulumi:Stack", {}),
        {"dr-region"},
    ),
    ("a stage without a primary", PROD, res("pulumi:pulumi:Stack", {}), set()),
]


@pytest.mark.parametrize(
    ("context", "resource", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_policy_table(context: StageContext, resource: Resource, expected: set[str]) -> None:
    findings = evaluate([resource], context)
    assert {f.policy for f in findings} == expected, (resource.urn, findings)
    for finding in findings:
        assert finding.urn == resource.urn
        assert finding.message.startswith("r: ") and " = " in finding.message, finding
        assert finding.fix, finding


def test_levels_and_order() -> None:
    findings = evaluate(
        [res(RDS, {**GOOD_RDS, "instanceClass": "db.t4g.micro", "storageEncrypted": False}, True)],
        PROD,
    )
    assert [(f.policy, f.level) for f in findings] == [
        ("encryption-at-rest", "mandatory"),
        ("size-within-tier", "advisory"),
    ]


def test_message_names_property_value_and_fix() -> None:
    (finding,) = evaluate(
        [
            res(
                SG,
                {
                    "ingress": [
                        {
                            "cidrBlocks": ["0.0.0.0/0"],
                            "fromPort": 22.0,
                            "toPort": 22.0,
                            "protocol": "tcp",
                        }
                    ],
                    "tags": AWS_TAGS,
                },
            )
        ],
        DEV,
    )
    assert (
        finding.message
        == "r: ingress[0] = '0.0.0.0/0': lets anyone on the internet reach port 22 (SSH)"
    )
    assert "bastion" in finding.fix


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("DB_PASSWORD=hunter2hunter2", "DB_PASSWORD=…"),
        ("password: 'hunter22'", "password=…"),
        ("api_key=abcdef123", "api_key=…"),
        ("printf 'DATABASE_PASSWORD=%s' \"$DB_PASSWORD\"", None),
        ("TOKEN=$(curl -s http://169.254.169.254/token)", None),
        ("X-aws-ec2-metadata-token-ttl-seconds: 300", None),
        ("--secret-id arn:aws:secretsmanager:us-east-1:1:secret:db-password-abcdef", None),
        ("password: {{ lookup }}", None),
        ("password=short", None),
        ("AKIAABCDEFGHIJKLMNOP", "an AWS access key id"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key block"),
    ],
)
def test_plaintext_secret(text: str, found: str | None) -> None:
    assert plaintext_secret(text) == found


def test_data_resources() -> None:
    assert is_data(res(RDS, {}))
    assert is_data(res(VOLUME, {"capacityGb": 2.0}))
    assert not is_data(res(VOLUME, {"cloudInit": {"userData": ""}}))
    assert not is_data(res(SG, {}))


# --- What a user reads: the exact message and fix of each rule, and the edges it draws. ---

SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"


def sg_rule(low: float, high: float, *sources: str, protocol: str = "tcp") -> Resource:
    return res(
        SG_RULE,
        {
            "type": "ingress",
            "cidrBlocks": list(sources),
            "fromPort": low,
            "toPort": high,
            "protocol": protocol,
        },
    )


@pytest.mark.parametrize(
    ("low", "high", "opened"),
    [
        (22, 22, "22 (SSH)"),
        (21, 22, "22 (SSH)"),
        (22, 23, "22 (SSH)"),
        (20, 21, None),
        (23, 1432, None),
        (1433, 1433, "1433 (SQL Server)"),
        (1434, 1520, None),
        (1521, 1521, "1521 (Oracle)"),
        (1522, 3305, None),
        (3306, 3306, "3306 (MySQL)"),
        (3307, 3388, None),
        (3389, 3389, "3389 (RDP)"),
        (3390, 5431, None),
        (5432, 5432, "5432 (PostgreSQL)"),
        (5433, 6378, None),
        (6379, 6379, "6379 (Redis)"),
        (6380, 27016, None),
        (27017, 27017, "27017 (MongoDB)"),
        (27018, 65535, None),
        (3000, 6000, "3389 (RDP), 5432 (PostgreSQL), 3306 (MySQL)"),
        (
            0,
            65535,
            "22 (SSH), 3389 (RDP), 5432 (PostgreSQL), 3306 (MySQL), 1433 (SQL Server), "
            "1521 (Oracle), 27017 (MongoDB), 6379 (Redis)",
        ),
    ],
)
def test_open_admin_ingress_names_every_admin_port_in_the_range(
    low: int, high: int, opened: str | None
) -> None:
    findings = evaluate([sg_rule(low, high, "0.0.0.0/0")], DEV)
    if opened is None:
        assert findings == [], findings
        return
    assert [(f.policy, f.level, f.type, f.urn) for f in findings] == [
        ("no-open-admin-ingress", "mandatory", SG_RULE, f"urn:pulumi:s::p::{SG_RULE}::r")
    ]
    assert findings[0].message == (
        f"r: cidrBlocks = '0.0.0.0/0': lets anyone on the internet reach port {opened}"
    )
    assert findings[0].fix == (
        "allow only the stage's own network or a bastion's range on these ports "
        "(reach machines through the provider's session manager instead of open SSH)"
    )


def test_open_admin_ingress_on_every_port_when_the_protocol_is_all() -> None:
    (finding,) = evaluate([sg_rule(0, 0, "10.0.0.0/8", "::/0", protocol="-1")], DEV)
    assert finding.message.startswith("r: cidrBlocks = '::/0': lets anyone on the internet ")
    assert finding.message.endswith("27017 (MongoDB), 6379 (Redis)")


@pytest.mark.parametrize(
    ("sources", "shown"),
    [
        (["::/0", "0.0.0.0/0"], "0.0.0.0/0"),
        (["10.0.0.0/8", "Internet"], "Internet"),
        (["ANY"], "ANY"),
        (["*"], "*"),
        (["10.0.0.0/8", "192.0.2.0/24"], None),
    ],
)
def test_open_admin_ingress_reads_every_way_of_writing_anyone(
    sources: list[str], shown: str | None
) -> None:
    findings = evaluate([sg_rule(22, 22, *sources)], DEV)
    if shown is None:
        assert findings == []
    else:
        (finding,) = findings
        assert finding.message == (
            f"r: cidrBlocks = '{shown}': lets anyone on the internet reach port 22 (SSH)"
        )


def test_one_finding_per_open_rule() -> None:
    rule = {"cidrBlocks": ["0.0.0.0/0"], "protocol": "tcp"}
    findings = evaluate(
        [
            res(
                SG,
                {
                    "ingress": [
                        {**rule, "fromPort": 22.0, "toPort": 22.0},
                        {**rule, "fromPort": 443.0, "toPort": 443.0},
                        {**rule, "fromPort": 3306.0, "toPort": 3306.0},
                    ],
                    "tags": AWS_TAGS,
                },
            )
        ],
        DEV,
    )
    assert [f.message for f in findings] == [
        "r: ingress[0] = '0.0.0.0/0': lets anyone on the internet reach port 22 (SSH)",
        "r: ingress[2] = '0.0.0.0/0': lets anyone on the internet reach port 3306 (MySQL)",
    ]


# (tier, its usual range as the message words it, sizes inside it)
TIER_RANGES = [
    ("ephemeral", "xsmall to small", {"xsmall", "small"}),
    ("development", "xsmall to medium", {"xsmall", "small", "medium"}),
    ("preproduction", "small to large", {"small", "medium", "large"}),
    ("production", "medium to xlarge", {"medium", "large", "xlarge"}),
]
DOMAIN_SHAPES = {
    "xsmall": (1, 512),
    "small": (1, 1024),
    "medium": (2, 2048),
    "large": (4, 4096),
    "xlarge": (8, 8192),
}


@pytest.mark.parametrize(
    ("tier", "usual", "size", "inside"),
    [
        (tier, usual, size, size in inside)
        for tier, usual, inside in TIER_RANGES
        for size in DOMAIN_SHAPES
    ],
)
def test_size_within_tier_edges(tier: str, usual: str, size: str, inside: bool) -> None:
    vcpus, memory = DOMAIN_SHAPES[size]
    context = StageContext(stage="s", tier=tier, region="site-a")
    domain = res(DOMAIN, {"vcpus": float(vcpus), "memoryMib": float(memory), "role": "app"})
    findings = evaluate([domain], context)
    if inside:
        assert findings == [], findings
        return
    assert [(f.policy, f.level) for f in findings] == [("size-within-tier", "advisory")]
    assert findings[0].message == (
        f"r: vcpus/memoryMib = '{vcpus}/{memory}': size {size}, outside the {usual} that "
        f"{tier} stages usually run"
    )
    assert findings[0].fix == (
        f"use a size from {usual} in the stack file, or keep it if this stage really needs it"
    )


def test_sizes_of_an_unknown_tier_or_shape_are_not_judged() -> None:
    xlarge = res(DOMAIN, {"vcpus": 8.0, "memoryMib": 8192.0, "role": "app"})
    odd = res(DOMAIN, {"vcpus": 3.0, "memoryMib": 3000.0, "role": "app"})
    assert evaluate([xlarge], StageContext(stage="s", tier="sandbox", region="a")) == []
    assert evaluate([odd], StageContext(stage="s", tier="ephemeral", region="a")) == []


def test_unprotected_production_data_message() -> None:
    (finding,) = evaluate([res(VOLUME, {"capacityGb": 2.0})], PROD)
    assert (finding.policy, finding.level) == ("production-data-protection", "mandatory")
    assert finding.message == (
        "r: protect = False: a production data resource that a destroy or a replacement "
        "would delete"
    )
    assert finding.fix == "set stageline:protectData: true in the stage's stack file"


def test_production_data_protection_keeps_the_target_problems_first() -> None:
    findings = evaluate([res(RDS, {**GOOD_RDS, "deletionProtection": False})], PROD)
    assert [f.message for f in findings] == [
        "r: deletionProtection = False: production data can be deleted",
        "r: protect = False: a production data resource that a destroy or a replacement "
        "would delete",
    ]
    assert [f.policy for f in findings] == ["production-data-protection"] * 2


@pytest.mark.parametrize("tier", ["ephemeral", "development", "preproduction"])
def test_only_production_data_must_be_protected(tier: str) -> None:
    context = StageContext(stage="s", tier=tier, region="a")
    assert evaluate([res(VOLUME, {"capacityGb": 2.0})], context) == []


def test_dr_region_message() -> None:
    (finding,) = evaluate([res("pulumi:pulumi:Stack", {})], SAME_REGION_DR)
    assert (finding.policy, finding.level) == ("dr-region", "mandatory")
    assert finding.message == (
        "r: stageline:region = 'us-east-1': a DR stage in its primary's region (or site) "
        "does not survive that region's loss"
    )
    assert finding.fix == "set stageline:region to another region or site than the primary's"


def test_dr_region_is_judged_once_per_stage_on_its_stack() -> None:
    # Every resource of a DR stage shares its region; only the stack resource reports it.
    assert evaluate([res("aws:ec2/route:Route", {})], SAME_REGION_DR) == []


@pytest.mark.parametrize(
    ("tags", "shown"),
    [
        ({"managed-by": "stageline"}, "None"),
        ({"stageline-stage": "prod"}, "'prod'"),
        ([{"key": "stageline-stage", "value": "prod"}], "'prod'"),
        (({"key": "stageline-stage", "value": "prod"},), "'prod'"),
        (["stageline-stage", {"key": "other", "value": "dev"}], "None"),
        ("stageline-stage=dev", "None"),
    ],
)
def test_stage_tag_message(tags: object, shown: str) -> None:
    (finding,) = evaluate([res("aws:autoscaling/group:Group", {"tags": tags})], DEV)
    assert (finding.policy, finding.level) == ("stage-tag", "mandatory")
    assert finding.message == (
        f"r: tags.stageline-stage = {shown}: every taggable resource must carry stageline-stage=dev"
    )
    assert finding.fix == (
        "give this resource the stage's tags (the template's `tags` argument) as `tags`"
    )


@pytest.mark.parametrize(
    "tags",
    [
        {"stageline-stage": "dev"},
        Secret({"stageline-stage": "dev"}),
        {"stageline-stage": Secret("dev")},
        [{"key": "other", "value": "x"}, {"key": "stageline-stage", "value": "dev"}],
    ],
)
def test_stage_tag_found(tags: object) -> None:
    assert evaluate([res("aws:autoscaling/group:Group", {"tags": tags})], DEV) == []


def test_plaintext_boot_secret_message() -> None:
    (finding,) = evaluate(
        [res(VOLUME, {"cloudInit": {"userData": "DATABASE_PASSWORD=abcdefgh\n"}})], DEV
    )
    assert (finding.policy, finding.level) == ("no-plaintext-boot-secret", "mandatory")
    assert finding.message == (
        "r: cloudInit.userData = 'DATABASE_PASSWORD=…': a secret written in plain into boot "
        "data, readable by anyone who can read the machine's metadata or seed, and stored "
        "unencrypted in the state"
    )
    assert finding.fix == (
        "read the secret at boot from the secret store, or mark the value secret "
        "(pulumi.Output.secret) so it is encrypted in the state"
    )


def test_one_finding_per_boot_text() -> None:
    findings = evaluate(
        [
            res(
                LT,
                {
                    "userData": "PASSWORD=abcdefgh",
                    "userDataBase64": b64("echo hello"),
                    "tags": AWS_TAGS,
                },
            ),
            res(
                LT,
                {
                    "userData": "echo hello",
                    "userDataBase64": b64("-----BEGIN PRIVATE KEY-----"),
                    "tags": AWS_TAGS,
                },
            ),
        ],
        DEV,
    )
    assert [f.message.split(": ")[1] for f in findings] == [
        "userData = 'PASSWORD=…'",
        "userDataBase64 = 'a private key block'",
    ]


@pytest.mark.parametrize(
    ("inputs", "policy"),
    [
        ({"storageEncrypted": False}, "encryption-at-rest"),
        ({"publiclyAccessible": True}, "no-public-database"),
        ({"deletionProtection": False}, "production-data-protection"),
        ({"tags": {}}, "stage-tag"),
    ],
)
def test_every_mandatory_policy_says_so(inputs: dict[str, Any], policy: str) -> None:
    (finding,) = evaluate([res(RDS, {**GOOD_RDS, **inputs}, True)], PROD)
    assert (finding.policy, finding.level) == (policy, "mandatory")


def test_a_secret_value_is_never_printed() -> None:
    (finding,) = evaluate(
        [res(RDS, {**GOOD_RDS, "backupRetentionPeriod": Secret(0.0)}, True)], PROD
    )
    assert finding.message == "r: backupRetentionPeriod = <secret>: production data has no backups"


def test_boot_data_marked_secret_or_unknown_is_skipped_not_the_rest() -> None:
    seed = {"cloudInit": {"userData": UNKNOWN}}
    assert evaluate([res(VOLUME, seed)], DEV) == []
    findings = evaluate(
        [
            res(
                LT,
                {
                    "userData": Secret("PASSWORD=abcdefgh"),
                    "userDataBase64": "PASSWORD=ijklmnop",
                    "tags": AWS_TAGS,
                },
            )
        ],
        DEV,
    )
    assert [f.message.split(": ")[1] for f in findings] == ["userDataBase64 = 'PASSWORD=…'"]


def test_every_shape_of_a_resource_is_judged() -> None:
    # The rule takes what a target reads; a resource may set several shapes (machine, disk).
    readings = [
        SizeReading("a", "a-shape", None),
        SizeReading("b", "b-shape", "small"),
        SizeReading("c", "c-shape", "xlarge"),
        SizeReading("d", "d-shape", "xsmall"),
    ]
    facts = TargetPolicy(sizes={"t": lambda resource: readings})
    findings = size_within_tier(res("t", {}), facts, PROD)
    assert [f.message.split(":")[1] for f in findings] == [" b = 'b-shape'", " d = 'd-shape'"]


def test_policy_named() -> None:
    dr = policy_named("dr-region")
    assert (dr.level, dr.description) == (
        "mandatory",
        "A DR stage runs in another region or site than its primary.",
    )
    assert policy_named("size-within-tier").level == "advisory"
    with pytest.raises(KeyError, match="no-such-policy"):
        policy_named("no-such-policy")


def test_mandatory_findings_come_first_then_resource_order() -> None:
    xlarge = res(DOMAIN, {"vcpus": 8.0, "memoryMib": 8192.0, "role": "app"})
    ssh = sg_rule(22, 22, "0.0.0.0/0")
    db = sg_rule(5432, 5432, "0.0.0.0/0")
    findings = evaluate([xlarge, ssh, xlarge, db], DEV)
    assert [(f.level, f.policy) for f in findings] == [
        ("mandatory", "no-open-admin-ingress"),
        ("mandatory", "no-open-admin-ingress"),
        ("advisory", "size-within-tier"),
        ("advisory", "size-within-tier"),
    ]
    assert findings[0].message.endswith("port 22 (SSH)")
    assert findings[1].message.endswith("port 5432 (PostgreSQL)")


def test_only_the_chosen_policies_run_over_every_resource() -> None:
    untagged = res("aws:ec2/instance:Instance", {"rootBlockDevice": {"encrypted": False}})
    chosen = (policy_named(name) for name in ["stage-tag"])
    findings = evaluate([untagged, untagged], DEV, chosen)
    assert [f.policy for f in findings] == ["stage-tag", "stage-tag"]


# --- AWS: what each finding says about a hand-edited resource, word for word. ---

CLUSTER = "aws:rds/cluster:Cluster"
BUCKET = "aws:s3/bucket:Bucket"
INSTANCE = "aws:ec2/instance:Instance"
ENCRYPT_IT = "encrypt it (stageline's AWS template does; a hand-edited resource lost it)"
SSE_PATH = "applyServerSideEncryptionByDefault.sseAlgorithm"
OPEN_FIX = (
    "allow only the stage's own network or a bastion's range on these ports "
    "(reach machines through the provider's session manager instead of open SSH)"
)
EVERY_ADMIN_PORT = (
    "22 (SSH), 3389 (RDP), 5432 (PostgreSQL), 3306 (MySQL), 1433 (SQL Server), "
    "1521 (Oracle), 27017 (MongoDB), 6379 (Redis)"
)

# (case, context, resource, exactly these (policy, message, fix) in order)
AWS_FINDINGS: list[tuple[str, StageContext, Resource, list[tuple[str, str, str]]]] = [
    (
        "rds storage not encrypted",
        PROD,
        res(RDS, {**GOOD_RDS, "storageEncrypted": False}, True),
        [
            (
                "encryption-at-rest",
                "r: storageEncrypted = False: the database's storage is not encrypted",
                ENCRYPT_IT,
            )
        ],
    ),
    (
        "rds cluster public and unencrypted",
        DEV,
        res(CLUSTER, {"storageEncrypted": "false", "publiclyAccessible": "true", "tags": AWS_TAGS}),
        [
            (
                "encryption-at-rest",
                "r: storageEncrypted = 'false': the database's storage is not encrypted",
                ENCRYPT_IT,
            ),
            (
                "no-public-database",
                "r: publiclyAccessible = True: the database gets a public address",
                "set publiclyAccessible: false; the app reaches it inside the VPC",
            ),
        ],
    ),
    (
        "rds prod without deletion protection or backups",
        PROD,
        res(RDS, {**GOOD_RDS, "deletionProtection": False, "backupRetentionPeriod": 0.0}, True),
        [
            (
                "production-data-protection",
                "r: deletionProtection = False: production data can be deleted",
                "set database.deletionProtection: true",
            ),
            (
                "production-data-protection",
                "r: backupRetentionPeriod = 0.0: production data has no backups",
                "set database.backupRetentionDays (7 or more)",
            ),
        ],
    ),
    (
        "rds prod with one day of backups",
        PROD,
        res(RDS, {**GOOD_RDS, "backupRetentionPeriod": 1.0}, True),
        [],
    ),
    (
        "rds prod backups unknown during a preview",
        PROD,
        res(RDS, {**GOOD_RDS, "backupRetentionPeriod": UNKNOWN}, True),
        [],
    ),
    (
        "rds size outside the tier",
        PROD,
        res(RDS, {**GOOD_RDS, "instanceClass": "db.t4g.small"}, True),
        [
            (
                "size-within-tier",
                "r: instanceClass = 'db.t4g.small': size small, outside the medium to xlarge "
                "that production stages usually run",
                "use a size from medium to xlarge in the stack file, or keep it if this stage "
                "really needs it",
            )
        ],
    ),
    (
        "rds class of no size",
        PROD,
        res(RDS, {**GOOD_RDS, "instanceClass": "db.x2g.16xlarge"}, True),
        [],
    ),
    (
        "launch template and instance sizes",
        DEV,
        res(LT, {"instanceType": "m6i.2xlarge", "tags": AWS_TAGS}),
        [
            (
                "size-within-tier",
                "r: instanceType = 'm6i.2xlarge': size xlarge, outside the xsmall to medium "
                "that development stages usually run",
                "use a size from xsmall to medium in the stack file, or keep it if this stage "
                "really needs it",
            )
        ],
    ),
    (
        "instance type unknown during a preview",
        DEV,
        res(
            INSTANCE,
            {"instanceType": UNKNOWN, "rootBlockDevice": {"encrypted": True}, "tags": AWS_TAGS},
        ),
        [],
    ),
    (
        "bucket prod force destroy",
        PROD,
        res(BUCKET, {"forceDestroy": "true", "tags": PROD_TAGS}, True),
        [
            (
                "production-data-protection",
                "r: forceDestroy = True: a destroy deletes the bucket with its objects",
                "set forceDestroy: false",
            )
        ],
    ),
    (
        "bucket inline sse encrypting",
        DEV,
        res(
            BUCKET,
            {
                "serverSideEncryptionConfiguration": {
                    "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
                },
                "tags": AWS_TAGS,
            },
        ),
        [],
    ),
    (
        "bucket inline sse without an algorithm",
        DEV,
        res(BUCKET, {"serverSideEncryptionConfiguration": {"rules": []}, "tags": AWS_TAGS}),
        [
            (
                "encryption-at-rest",
                f"r: serverSideEncryptionConfiguration.rules[*].{SSE_PATH} = None: "
                "no rule encrypts the bucket's objects",
                "set sseAlgorithm to aws:kms (or AES256) in a rule",
            )
        ],
    ),
    (
        "bucket sse algorithm unknown during a preview",
        DEV,
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {
                "rules": [
                    {"bucketKeyEnabled": True},
                    {"applyServerSideEncryptionByDefault": {"sseAlgorithm": UNKNOWN}},
                ]
            },
        ),
        [],
    ),
    (
        "launch template disks",
        DEV,
        res(
            LT,
            {
                "blockDeviceMappings": [
                    {"ebs": {"encrypted": "true"}},
                    {"ebs": {"encrypted": "false"}},
                    {"ebs": {"encrypted": UNKNOWN}},
                    UNKNOWN,
                    {"ebs": UNKNOWN},
                    {"ebs": {}},
                ],
                "tags": AWS_TAGS,
            },
        ),
        [
            (
                "encryption-at-rest",
                "r: blockDeviceMappings[1].ebs.encrypted = 'false': an instance disk is not "
                "encrypted",
                "set ebs.encrypted: true",
            ),
            (
                "encryption-at-rest",
                "r: blockDeviceMappings[5].ebs.encrypted = None: an instance disk is not encrypted",
                "set ebs.encrypted: true",
            ),
        ],
    ),
    (
        "instance disks",
        DEV,
        res(
            INSTANCE,
            {
                "rootBlockDevice": {"encrypted": False},
                "ebsBlockDevices": [
                    {"encrypted": True},
                    {"encrypted": "false"},
                    {"encrypted": UNKNOWN},
                    UNKNOWN,
                    {},
                ],
                "tags": AWS_TAGS,
            },
        ),
        [
            (
                "encryption-at-rest",
                "r: rootBlockDevice.encrypted = False: the root disk is not encrypted",
                "set rootBlockDevice.encrypted: true",
            ),
            (
                "encryption-at-rest",
                "r: ebsBlockDevices[1].encrypted = 'false': a disk is not encrypted",
                "set encrypted: true",
            ),
            (
                "encryption-at-rest",
                "r: ebsBlockDevices[4].encrypted = None: a disk is not encrypted",
                "set encrypted: true",
            ),
        ],
    ),
    (
        "instance root disk encrypted, or unknown during a preview",
        DEV,
        res(INSTANCE, {"rootBlockDevice": {"encrypted": UNKNOWN}, "tags": AWS_TAGS}),
        [],
    ),
    (
        "instance root disk encrypted as a string",
        DEV,
        res(INSTANCE, {"rootBlockDevice": {"encrypted": "true"}, "tags": AWS_TAGS}),
        [],
    ),
    (
        "ebs volume",
        DEV,
        res("aws:ebs/volume:Volume", {"encrypted": False, "tags": AWS_TAGS}),
        [
            (
                "encryption-at-rest",
                "r: encrypted = False: the volume is not encrypted",
                "set encrypted: true",
            )
        ],
    ),
    (
        "ebs volume encrypted",
        DEV,
        res("aws:ebs/volume:Volume", {"encrypted": True, "tags": AWS_TAGS}),
        [],
    ),
    (
        "security group rule, protocol all",
        DEV,
        sg_rule(443, 443, "0.0.0.0/0", protocol="all"),
        [
            (
                "no-open-admin-ingress",
                f"r: cidrBlocks = '0.0.0.0/0': lets anyone on the internet reach port "
                f"{EVERY_ADMIN_PORT}",
                OPEN_FIX,
            )
        ],
    ),
    (
        "security group rule, port unknown during a preview",
        DEV,
        res(
            SG_RULE,
            {
                "type": "ingress",
                "cidrBlocks": ["10.0.0.0/8"],
                "ipv6CidrBlocks": ["::/0"],
                "fromPort": 22.0,
                "toPort": UNKNOWN,
                "protocol": "tcp",
            },
        ),
        [
            (
                "no-open-admin-ingress",
                f"r: ipv6CidrBlocks = '::/0': lets anyone on the internet reach port "
                f"{EVERY_ADMIN_PORT}",
                OPEN_FIX,
            )
        ],
    ),
    (
        "vpc ingress rule",
        DEV,
        res(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"cidrIpv4": "0.0.0.0/0", "fromPort": 3389.0, "toPort": 3389.0, "ipProtocol": "tcp"},
        ),
        [
            (
                "no-open-admin-ingress",
                "r: cidrIpv4 = '0.0.0.0/0': lets anyone on the internet reach port 3389 (RDP)",
                OPEN_FIX,
            ),
            (
                "stage-tag",
                "r: tags.stageline-stage = None: every taggable resource must carry "
                "stageline-stage=dev",
                "give this resource the stage's tags (the template's `tags` argument) as `tags`",
            ),
        ],
    ),
    (
        "vpc ingress rule, ipv6 every protocol",
        DEV,
        res(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {
                "cidrIpv6": "::/0",
                "ipProtocol": "-1",
                "fromPort": -1.0,
                "toPort": -1.0,
                "tags": AWS_TAGS,
            },
        ),
        [
            (
                "no-open-admin-ingress",
                f"r: cidrIpv6 = '::/0': lets anyone on the internet reach port {EVERY_ADMIN_PORT}",
                OPEN_FIX,
            )
        ],
    ),
    (
        "vpc ingress rule from inside",
        DEV,
        res(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"cidrIpv4": "10.0.0.0/16", "ipProtocol": "-1", "tags": AWS_TAGS},
        ),
        [],
    ),
    (
        "user data in plain, both kinds",
        DEV,
        res(
            INSTANCE,
            {
                "rootBlockDevice": {"encrypted": True},
                "userData": "PASSWORD=abcdefgh",
                "userDataBase64": b64("API_KEY=abcdefgh"),
                "tags": AWS_TAGS,
            },
        ),
        [
            (
                "no-plaintext-boot-secret",
                "r: userData = 'PASSWORD=…': a secret written in plain into boot data, readable "
                "by anyone who can read the machine's metadata or seed, and stored unencrypted "
                "in the state",
                "read the secret at boot from the secret store, or mark the value secret "
                "(pulumi.Output.secret) so it is encrypted in the state",
            ),
            (
                "no-plaintext-boot-secret",
                "r: userDataBase64 = 'API_KEY=…': a secret written in plain into boot data, "
                "readable by anyone who can read the machine's metadata or seed, and stored "
                "unencrypted in the state",
                "read the secret at boot from the secret store, or mark the value secret "
                "(pulumi.Output.secret) so it is encrypted in the state",
            ),
        ],
    ),
    (
        "user data unknown during a preview",
        DEV,
        res(LT, {"userData": UNKNOWN, "tags": AWS_TAGS}),
        [],
    ),
]


@pytest.mark.parametrize(
    ("context", "resource", "expected"),
    [c[1:] for c in AWS_FINDINGS],
    ids=[c[0] for c in AWS_FINDINGS],
)
def test_aws_findings_word_for_word(
    context: StageContext, resource: Resource, expected: list[tuple[str, str, str]]
) -> None:
    findings = evaluate([resource], context)
    assert [(f.policy, f.message, f.fix) for f in findings] == expected, resource.urn


# --- GCP: what each finding says about a hand-edited resource, word for word. ---

SQL = "gcp:sql/databaseInstance:DatabaseInstance"
GCP_BUCKET = "gcp:storage/bucket:Bucket"
GCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
GCE = "gcp:compute/instance:Instance"
DEV_LABELS = {"stageline-stage": "dev"}
SECRET_DETAIL = (
    "a secret written in plain into boot data, readable by anyone who can read the machine's "
    "metadata or seed, and stored unencrypted in the state"
)
SECRET_FIX = (
    "read the secret at boot from the secret store, or mark the value secret "
    "(pulumi.Output.secret) so it is encrypted in the state"
)


def firewall(allow: dict[str, Any], *sources: str, **more: Any) -> Resource:
    return res(FIREWALL, {"allows": [allow], "sourceRanges": list(sources), **more})


GCP_FINDINGS: list[tuple[str, StageContext, Resource, list[tuple[str, str, str]]]] = [
    (
        "sql public address and networks",
        DEV,
        res(
            SQL,
            {
                "settings": {
                    "ipConfiguration": {
                        "ipv4Enabled": "true",
                        "authorizedNetworks": [
                            {"value": "0.0.0.0/0"},
                            {"value": "10.0.0.0/8"},
                            UNKNOWN,
                            {"value": "::/0"},
                        ],
                    },
                    "userLabels": DEV_LABELS,
                }
            },
        ),
        [
            (
                "no-public-database",
                "r: settings.ipConfiguration.ipv4Enabled = True: the instance gets a public IPv4 "
                "address",
                "set ipv4Enabled: false and reach it through its private network",
            ),
            (
                "no-public-database",
                "r: settings.ipConfiguration.authorizedNetworks[0].value = '0.0.0.0/0': "
                "authorizes every address",
                "remove the authorized network",
            ),
            (
                "no-public-database",
                "r: settings.ipConfiguration.authorizedNetworks[3].value = '::/0': "
                "authorizes every address",
                "remove the authorized network",
            ),
        ],
    ),
    (
        "sql prod without any protection",
        PROD,
        res(
            SQL,
            {
                "deletionProtection": False,
                "settings": {
                    "deletionProtectionEnabled": "false",
                    "backupConfiguration": {"enabled": False},
                    "userLabels": PROD_TAGS,
                },
            },
            True,
        ),
        [
            (
                "production-data-protection",
                "r: deletionProtection = False: production data can be deleted",
                "set database.deletionProtection: true",
            ),
            (
                "production-data-protection",
                "r: settings.deletionProtectionEnabled = 'false': production data can be deleted",
                "set database.deletionProtection: true",
            ),
            (
                "production-data-protection",
                "r: settings.backupConfiguration.enabled = False: production data has no backups",
                "set database.backupRetentionDays (7 or more)",
            ),
        ],
    ),
    (
        "sql prod protection unknown during a preview",
        PROD,
        res(
            SQL,
            {
                "deletionProtection": UNKNOWN,
                "settings": {
                    "deletionProtectionEnabled": UNKNOWN,
                    "backupConfiguration": {"enabled": UNKNOWN},
                    "userLabels": PROD_TAGS,
                },
            },
            True,
        ),
        [],
    ),
    (
        "sql prod protected, backups as strings",
        PROD,
        res(
            SQL,
            {
                "deletionProtection": "true",
                "settings": {
                    "deletionProtectionEnabled": True,
                    "backupConfiguration": {"enabled": "true"},
                    "tier": "db-f1-micro",
                    "userLabels": PROD_TAGS,
                },
            },
            True,
        ),
        [
            (
                "size-within-tier",
                "r: settings.tier = 'db-f1-micro': size xsmall, outside the medium to xlarge "
                "that production stages usually run",
                "use a size from medium to xlarge in the stack file, or keep it if this stage "
                "really needs it",
            )
        ],
    ),
    (
        "bucket prod force destroy",
        PROD,
        res(GCP_BUCKET, {"forceDestroy": "true", "labels": PROD_TAGS}, True),
        [
            (
                "production-data-protection",
                "r: forceDestroy = True: a destroy deletes the bucket with its objects",
                "set forceDestroy: false (stageline:protectData: true)",
            )
        ],
    ),
    (
        "bucket prod kept on destroy",
        PROD,
        res(GCP_BUCKET, {"forceDestroy": False, "labels": PROD_TAGS}, True),
        [],
    ),
    (
        "firewall https open to all",
        DEV,
        firewall({"protocol": "tcp", "ports": ["443", "8000-8080"]}, "0.0.0.0/0"),
        [],
    ),
    (
        "firewall every protocol, ports listed",
        DEV,
        firewall({"protocol": "ALL", "ports": ["443"]}, "0.0.0.0/0", direction="ingress"),
        [
            (
                "no-open-admin-ingress",
                f"r: allows[0] = '0.0.0.0/0': lets anyone on the internet reach port "
                f"{EVERY_ADMIN_PORT}",
                OPEN_FIX,
            )
        ],
    ),
    (
        "firewall port range over ssh",
        DEV,
        firewall({"protocol": "tcp", "ports": ["20-23", "ssh-22"]}, "10.0.0.0/8", "::/0"),
        [
            (
                "no-open-admin-ingress",
                "r: allows[0] = '::/0': lets anyone on the internet reach port 22 (SSH)",
                OPEN_FIX,
            )
        ],
    ),
    (
        "firewall egress",
        DEV,
        firewall({"protocol": "all"}, "0.0.0.0/0", direction="egress"),
        [],
    ),
    (
        "instance template size and boot data",
        DEV,
        res(
            GCE_TEMPLATE,
            {
                "machineType": "n2-standard-8",
                "metadataStartupScript": "PASSWORD=abcdefgh",
                "metadata": {"user-data": "token: abcdefgh", "startup-script": UNKNOWN},
                "labels": DEV_LABELS,
            },
        ),
        [
            (
                "no-plaintext-boot-secret",
                f"r: metadataStartupScript = 'PASSWORD=…': {SECRET_DETAIL}",
                SECRET_FIX,
            ),
            (
                "no-plaintext-boot-secret",
                f"r: metadata.user-data = 'token=…': {SECRET_DETAIL}",
                SECRET_FIX,
            ),
            (
                "size-within-tier",
                "r: machineType = 'n2-standard-8': size xlarge, outside the xsmall to medium "
                "that development stages usually run",
                "use a size from xsmall to medium in the stack file, or keep it if this stage "
                "really needs it",
            ),
        ],
    ),
    (
        "boot metadata marked secret as a whole",
        DEV,
        res(
            GCE,
            {"metadata": Secret({"startup-script": "PASSWORD=abcdefgh"}), "labels": DEV_LABELS},
        ),
        [],
    ),
    (
        "instance startup script in metadata",
        DEV,
        res(
            GCE,
            {
                "metadata": {"startup-script": "PASSWORD=abcdefgh"},
                "metadataStartupScript": "API_KEY=abcdefgh",
                "labels": DEV_LABELS,
            },
        ),
        [
            (
                "no-plaintext-boot-secret",
                f"r: metadataStartupScript = 'API_KEY=…': {SECRET_DETAIL}",
                SECRET_FIX,
            ),
            (
                "no-plaintext-boot-secret",
                f"r: metadata.startup-script = 'PASSWORD=…': {SECRET_DETAIL}",
                SECRET_FIX,
            ),
        ],
    ),
]


@pytest.mark.parametrize(
    ("context", "resource", "expected"),
    [c[1:] for c in GCP_FINDINGS],
    ids=[c[0] for c in GCP_FINDINGS],
)
def test_gcp_findings_word_for_word(
    context: StageContext, resource: Resource, expected: list[tuple[str, str, str]]
) -> None:
    findings = evaluate([resource], context)
    assert [(f.policy, f.message, f.fix) for f in findings] == expected, resource.urn


# --- Azure: what each finding says about a hand-edited resource, word for word. ---

PG = "azure-native:dbforpostgresql:Server"
ACCOUNT = "azure-native:storage:StorageAccount"
AZ_RULE = "azure-native:network:SecurityRule"


def nsg_rule(**rule: Any) -> dict[str, Any]:
    return {"direction": "Inbound", "access": "Allow", **rule}


AZURE_FINDINGS: list[tuple[str, StageContext, Resource, list[tuple[str, str, str]]]] = [
    (
        "storage services unencrypted",
        DEV,
        res(
            ACCOUNT,
            {
                "encryption": {
                    "services": {
                        "blob": {"enabled": False},
                        "file": {"enabled": "false"},
                        "queue": {"enabled": True},
                        "table": {"enabled": UNKNOWN},
                    }
                },
                "tags": DEV_LABELS,
            },
        ),
        [
            (
                "encryption-at-rest",
                "r: encryption.services.blob.enabled = False: blob data is not encrypted",
                "set encryption.services.blob.enabled: true",
            ),
            (
                "encryption-at-rest",
                "r: encryption.services.file.enabled = False: file data is not encrypted",
                "set encryption.services.file.enabled: true",
            ),
        ],
    ),
    (
        "storage queue and table unencrypted",
        DEV,
        res(
            ACCOUNT,
            {
                "encryption": {
                    "services": {"queue": {"enabled": False}, "table": {"enabled": False}}
                },
                "tags": DEV_LABELS,
            },
        ),
        [
            (
                "encryption-at-rest",
                "r: encryption.services.queue.enabled = False: queue data is not encrypted",
                "set encryption.services.queue.enabled: true",
            ),
            (
                "encryption-at-rest",
                "r: encryption.services.table.enabled = False: table data is not encrypted",
                "set encryption.services.table.enabled: true",
            ),
        ],
    ),
    (
        "server with an unknown key type, public",
        DEV,
        res(
            PG,
            {
                "dataEncryption": {"type": "None"},
                "network": {"publicNetworkAccess": "Enabled"},
                "tags": DEV_LABELS,
            },
        ),
        [
            (
                "encryption-at-rest",
                "r: dataEncryption.type = 'None': not an encryption Flexible Server knows",
                "use SystemManaged (or AzureKeyVault with a key)",
            ),
            (
                "no-public-database",
                "r: network.publicNetworkAccess = 'Enabled': the server accepts connections from "
                "the internet",
                "set publicNetworkAccess: Disabled and reach it through its delegated subnet",
            ),
        ],
    ),
    *[
        (
            f"server encryption {kind}",
            DEV,
            res(
                PG,
                {
                    "dataEncryption": {"type": kind},
                    "network": {"publicNetworkAccess": "Disabled"},
                    "tags": DEV_LABELS,
                },
            ),
            [],
        )
        for kind in ("SystemManaged", "AzureKeyVault", UNKNOWN)
    ],
    (
        "firewall rule for every address",
        DEV,
        res(
            "azure-native:dbforpostgresql:FirewallRule",
            {"startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"},
        ),
        [
            (
                "no-public-database",
                "r: startIpAddress-endIpAddress = '0.0.0.0-255.255.255.255': the firewall rule "
                "admits every address",
                "remove the rule; the server is reached through its private network",
            )
        ],
    ),
    *[
        (
            f"firewall rule {start}-{end}",
            DEV,
            res(
                "azure-native:dbforpostgresql:FirewallRule",
                {"startIpAddress": start, "endIpAddress": end},
            ),
            [],
        )
        for start, end in [("0.0.0.0", "0.0.0.0"), ("10.0.0.0", "255.255.255.255")]
    ],
    (
        "nsg rules, as written",
        DEV,
        res(
            NSG,
            {
                "securityRules": [
                    nsg_rule(
                        destinationPortRange="22",
                        destinationPortRanges=["3389", "x-22", "1000-1100"],
                        sourceAddressPrefixes=["10.0.0.0/8", "Internet"],
                    ),
                    UNKNOWN,
                    nsg_rule(destinationPortRange="*", sourceAddressPrefix="*", access="allow"),
                    nsg_rule(destinationPortRanges=["443"], sourceAddressPrefix="*"),
                    nsg_rule(
                        destinationPortRange="5432", sourceAddressPrefix="*", direction="inbound"
                    ),
                    nsg_rule(destinationPortRange="5432", sourceAddressPrefix="*", access="Deny"),
                    {"access": "Allow", "destinationPortRange": "22", "sourceAddressPrefix": "*"},
                    {
                        "direction": "Inbound",
                        "destinationPortRange": "22",
                        "sourceAddressPrefix": "*",
                    },
                ],
                "tags": DEV_LABELS,
            },
        ),
        [
            (
                "no-open-admin-ingress",
                "r: securityRules[0] = 'Internet': lets anyone on the internet reach port "
                "22 (SSH), 3389 (RDP)",
                OPEN_FIX,
            ),
            (
                "no-open-admin-ingress",
                f"r: securityRules[2] = '*': lets anyone on the internet reach port "
                f"{EVERY_ADMIN_PORT}",
                OPEN_FIX,
            ),
            (
                "no-open-admin-ingress",
                "r: securityRules[4] = '*': lets anyone on the internet reach port "
                "5432 (PostgreSQL)",
                OPEN_FIX,
            ),
        ],
    ),
    (
        "security rule resource",
        DEV,
        res(AZ_RULE, nsg_rule(destinationPortRange="1433", sourceAddressPrefix="0.0.0.0/0")),
        [
            (
                "no-open-admin-ingress",
                "r: securityRule = '0.0.0.0/0': lets anyone on the internet reach port "
                "1433 (SQL Server)",
                OPEN_FIX,
            )
        ],
    ),
    (
        "server prod without backups",
        PROD,
        res(PG, {"backup": {"backupRetentionDays": 0.0}, "tags": PROD_TAGS}, True),
        [
            (
                "production-data-protection",
                "r: backup.backupRetentionDays = 0.0: production data has no backups",
                "set database.backupRetentionDays (7 or more)",
            )
        ],
    ),
    *[
        (
            f"server prod backups {days}",
            PROD,
            res(PG, {"backup": {"backupRetentionDays": days}, "tags": PROD_TAGS}, True),
            [],
        )
        for days in (1.0, UNKNOWN)
    ],
    (
        "storage account prod unprotected",
        PROD,
        res(ACCOUNT, {"tags": PROD_TAGS}),
        [
            (
                "production-data-protection",
                "r: protect = False: a production data resource that a destroy or a "
                "replacement would delete",
                "set stageline:protectData: true in the stage's stack file",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("context", "resource", "expected"),
    [c[1:] for c in AZURE_FINDINGS],
    ids=[c[0] for c in AZURE_FINDINGS],
)
def test_azure_findings_word_for_word(
    context: StageContext, resource: Resource, expected: list[tuple[str, str, str]]
) -> None:
    findings = evaluate([resource], context)
    assert [(f.policy, f.message, f.fix) for f in findings] == expected, resource.urn
