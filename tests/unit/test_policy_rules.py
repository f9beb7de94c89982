"""The policies, table-driven and without mocks: for each rule a resource that passes and one
that only that rule catches, evaluated through the same entry point as `stageline plan`."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from policy.evaluate import evaluate, is_data
from policy.model import UNKNOWN, Resource, Secret, StageContext
from policy.rules import plaintext_secret

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
