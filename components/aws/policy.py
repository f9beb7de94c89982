"""What the policy pack (policy/) needs to know about AWS resources: type tokens and the input
properties (camelCase, as the engine sends them) that hold encryption, public access, ingress,
data protection, tags, user data and sizes. SDK-free: plain data and small readers."""

from __future__ import annotations

import json
from typing import Any

from components.aws.sizes import EC2_TYPES, RDS_CLASSES
from policy.facts import (
    BootText,
    Grant,
    IngressRule,
    SizeReading,
    TargetPolicy,
    force_destroy_problems,
    reverse,
)
from policy.model import Problem, Resource
from policy.values import decode_base64, get, is_true, items, known, number, plain

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

ENCRYPT_FIX = "encrypt it (stageline's AWS template does; a hand-edited resource lost it)"


def _must_be_true(resource: Resource, path: str, what: str, fix: str) -> list[Problem]:
    value = get(resource.inputs, path)
    if not known(value) or is_true(value):
        return []
    return [Problem(path, plain(value), what, fix)]


def _storage_encrypted(resource: Resource) -> list[Problem]:
    return _must_be_true(
        resource, "storageEncrypted", "the database's storage is not encrypted", ENCRYPT_FIX
    )


def _launch_template_disks(resource: Resource) -> list[Problem]:
    problems: list[Problem] = []
    for where, mapping in items(resource.inputs, "blockDeviceMappings"):
        ebs = plain(mapping.get("ebs")) if isinstance(mapping, dict) else None
        if (
            isinstance(ebs, dict)
            and known(ebs.get("encrypted"))
            and not is_true(ebs.get("encrypted"))
        ):
            problems.append(
                Problem(
                    f"{where}.ebs.encrypted",
                    plain(ebs.get("encrypted")),
                    "an instance disk is not encrypted",
                    "set ebs.encrypted: true",
                )
            )
    return problems


def _instance_disks(resource: Resource) -> list[Problem]:
    problems: list[Problem] = []
    root = get(resource.inputs, "rootBlockDevice.encrypted")
    if known(root) and not is_true(root):
        problems.append(
            Problem(
                "rootBlockDevice.encrypted",
                plain(root),
                "the root disk is not encrypted",
                "set rootBlockDevice.encrypted: true",
            )
        )
    for where, device in items(resource.inputs, "ebsBlockDevices"):
        if (
            isinstance(device, dict)
            and known(device.get("encrypted"))
            and not is_true(device.get("encrypted"))
        ):
            problems.append(
                Problem(
                    f"{where}.encrypted",
                    plain(device.get("encrypted")),
                    "a disk is not encrypted",
                    "set encrypted: true",
                )
            )
    return problems


def _volume(resource: Resource) -> list[Problem]:
    return _must_be_true(
        resource, "encrypted", "the volume is not encrypted", "set encrypted: true"
    )


def _sse_rules(resource: Resource, path: str) -> list[Problem]:
    rules = list(items(resource.inputs, path))
    algorithms = [
        get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
        for _, rule in rules
        if isinstance(rule, dict)
    ]
    # An algorithm set, or one the engine does not know yet in a preview (UNKNOWN is truthy).
    if any(algorithms):
        return []
    return [
        Problem(
            f"{path}[*].applyServerSideEncryptionByDefault.sseAlgorithm",
            None,
            "no rule encrypts the bucket's objects",
            "set sseAlgorithm to aws:kms (or AES256) in a rule",
        )
    ]


def _bucket_sse(resource: Resource) -> list[Problem]:
    return _sse_rules(resource, "rules")


def _bucket_inline_sse(resource: Resource) -> list[Problem]:
    # The inline block is deprecated (a separate configuration resource replaces it); given, it
    # must still encrypt.
    if get(resource.inputs, "serverSideEncryptionConfiguration") is None:
        return []
    return _sse_rules(resource, "serverSideEncryptionConfiguration.rules")


def _publicly_accessible(resource: Resource) -> list[Problem]:
    value = get(resource.inputs, "publiclyAccessible")
    if not is_true(value):
        return []
    return [
        Problem(
            "publiclyAccessible",
            True,
            "the database gets a public address",
            "set publiclyAccessible: false; the app reaches it inside the VPC",
        )
    ]


def _ports(rule: dict[str, Any], protocol_key: str) -> tuple[tuple[int, int], ...] | None:
    protocol = str(plain(rule.get(protocol_key))).lower()
    if protocol in ("-1", "all"):
        return None
    low, high = number(rule.get("fromPort")), number(rule.get("toPort"))
    if low is None or high is None:
        return None
    return ((int(low), int(high)),)


def _sources(rule: dict[str, Any], *keys: str) -> tuple[str, ...]:
    found: list[str] = []
    for key in keys:
        value = plain(rule.get(key))
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list | tuple):
            found.extend(str(plain(v)) for v in value)
    return tuple(found)


def _security_group(resource: Resource) -> list[IngressRule]:
    return [
        IngressRule(where, _sources(rule, "cidrBlocks", "ipv6CidrBlocks"), _ports(rule, "protocol"))
        for where, rule in items(resource.inputs, "ingress")
        if isinstance(rule, dict)
    ]


def _by_property(
    rule: dict[str, Any], keys: tuple[str, str], ports: tuple[tuple[int, int], ...] | None
) -> list[IngressRule]:
    """A standalone rule's IPv4 and IPv6 sources, each under the property that holds it, so a
    finding names the one to change; a rule with neither is read under the IPv4 property."""
    read = {key: _sources(rule, key) for key in keys}
    found = [IngressRule(key, sources, ports) for key, sources in read.items() if sources]
    return found or [IngressRule(keys[0], (), ports)]


def _security_group_rule(resource: Resource) -> list[IngressRule]:
    rule = dict(resource.inputs)
    if plain(rule.get("type")) != "ingress":
        return []
    return _by_property(rule, ("cidrBlocks", "ipv6CidrBlocks"), _ports(rule, "protocol"))


def _ingress_rule(resource: Resource) -> list[IngressRule]:
    rule = dict(resource.inputs)
    return _by_property(rule, ("cidrIpv4", "cidrIpv6"), _ports(rule, "ipProtocol"))


def _database_protection(resource: Resource) -> list[Problem]:
    problems = _must_be_true(
        resource,
        "deletionProtection",
        "production data can be deleted",
        "set database.deletionProtection: true",
    )
    days = get(resource.inputs, "backupRetentionPeriod")
    if known(days) and not (number(days) or 0) > 0:
        problems.append(
            Problem(
                "backupRetentionPeriod",
                days,
                "production data has no backups",
                "set database.backupRetentionDays (7 or more)",
            )
        )
    return problems


def _bucket_protection(resource: Resource) -> list[Problem]:
    return force_destroy_problems(resource, "set forceDestroy: false")


def _user_data(resource: Resource) -> list[BootText]:
    # A missing or unknown value is no text; the rule reads only text.
    return [
        BootText(key, decode_base64(resource.inputs.get(key)))
        for key in ("userData", "userDataBase64")
    ]


_EC2_BY_TYPE = reverse(EC2_TYPES)
_RDS_BY_CLASS = reverse(RDS_CLASSES)


def _shape(resource: Resource, path: str, by_shape: dict[str, str]) -> list[SizeReading]:
    value = plain(get(resource.inputs, path))
    if not isinstance(value, str):
        return []
    return [SizeReading(path, value, by_shape.get(value))]


def _instance_type(resource: Resource) -> list[SizeReading]:
    return _shape(resource, "instanceType", _EC2_BY_TYPE)


def _instance_class(resource: Resource) -> list[SizeReading]:
    return _shape(resource, "instanceClass", _RDS_BY_CLASS)


TAGGABLE: tuple[str, ...] = (
    "aws:autoscaling/group:Group",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:ec2/eip:Eip",
    "aws:ec2/internetGateway:InternetGateway",
    LAUNCH_TEMPLATE,
    INSTANCE,
    EBS_VOLUME,
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    SECURITY_GROUP,
    "aws:ec2/subnet:Subnet",
    "aws:ec2/vpc:Vpc",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:iam/role:Role",
    "aws:kms/key:Key",
    "aws:lb/listener:Listener",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    RDS_INSTANCE,
    RDS_CLUSTER,
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:route53/healthCheck:HealthCheck",
    BUCKET,
    "aws:secretsmanager/secret:Secret",
    "aws:sns/topic:Topic",
    INGRESS_RULE,
)
"""Every taggable type the AWS template registers, and the few a hand edit is likely to add (their
SDK args take `tags`).
Checked against the installed SDK when written; a new taggable type must be added here."""

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def _listed(value: Any) -> list[str]:
    value = plain(value)
    if isinstance(value, list | tuple):
        return [str(plain(v)) for v in value]
    return [str(value)] if value is not None else []


def _document_grants(resource: Resource) -> list[Grant]:
    """Each (effect, action, resource) of the policy document, with its condition: a grant
    compares equal however the statements are written or ordered."""
    document = plain(resource.inputs.get("policy"))
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    grants: list[Grant] = []
    for i, statement in enumerate(statements or []):
        if not isinstance(statement, dict):
            continue
        effect = str(statement.get("Effect", "Allow"))
        condition = statement.get("Condition")
        when = f" when {json.dumps(condition, sort_keys=True)}" if condition else ""
        actions = _listed(statement.get("Action")) or [
            f"not {a}" for a in _listed(statement.get("NotAction"))
        ]
        targets = _listed(statement.get("Resource")) or ["*"]
        grants += [
            Grant(f"policy.Statement[{i}]", f"{effect} {action} on {target}{when}")
            for action in actions
            for target in targets
        ]
    return grants


def _attachment(resource: Resource) -> list[Grant]:
    arn = plain(resource.inputs.get("policyArn"))
    return [Grant("policyArn", f"attach {arn}")] if isinstance(arn, str) else []


POLICY = TargetPolicy(
    encryption={
        RDS_INSTANCE: _storage_encrypted,
        RDS_CLUSTER: _storage_encrypted,
        LAUNCH_TEMPLATE: _launch_template_disks,
        INSTANCE: _instance_disks,
        EBS_VOLUME: _volume,
        BUCKET: _bucket_inline_sse,
        BUCKET_SSE: _bucket_sse,
    },
    public_database={RDS_INSTANCE: _publicly_accessible, RDS_CLUSTER: _publicly_accessible},
    ingress={
        SECURITY_GROUP: _security_group,
        SECURITY_GROUP_RULE: _security_group_rule,
        INGRESS_RULE: _ingress_rule,
    },
    permissions={
        ROLE_POLICY: _document_grants,
        IAM_POLICY: _document_grants,
        POLICY_ATTACHMENT: _attachment,
    },
    data={RDS_INSTANCE: _database_protection, BUCKET: _bucket_protection},
    tags=dict.fromkeys(TAGGABLE, "tags"),
    boot={LAUNCH_TEMPLATE: _user_data, INSTANCE: _user_data},
    sizes={
        LAUNCH_TEMPLATE: _instance_type,
        INSTANCE: _instance_type,
        RDS_INSTANCE: _instance_class,
    },
)
