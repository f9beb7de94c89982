"""What GCP IAM resources grant, as policy/facts.py `Grant`s whose text compares equal for the
same grant: `<role> to <member> on <resource>`, with its condition. SDK-free.

A member resource is one grant; a binding one per member; a policy one per member of each of
its bindings. Read conservatively, as on every target: a grant that is not word for word one
the resource gave before is new.
"""

from __future__ import annotations

import json
from typing import Any

from policy.facts import Grant
from policy.model import Resource
from policy.values import items, known, plain

SCOPES = ("project", "bucket", "secretId")
"""The input naming what a grant is on, by resource kind (project, bucket, secret)."""

KINDS = {
    "projects/iAMMember:IAMMember": "member",
    "projects/iAMBinding:IAMBinding": "binding",
    "projects/iAMPolicy:IAMPolicy": "policy",
    "storage/bucketIAMMember:BucketIAMMember": "member",
    "storage/bucketIAMBinding:BucketIAMBinding": "binding",
    "storage/bucketIAMPolicy:BucketIAMPolicy": "policy",
    "secretmanager/secretIamMember:SecretIamMember": "member",
    "secretmanager/secretIamBinding:SecretIamBinding": "binding",
    "secretmanager/secretIamPolicy:SecretIamPolicy": "policy",
}
"""The IAM types of what the GCP template grants on (its project, buckets and secret)."""
NOT_KNOWN = "a policy not known before the update"


def _scope(resource: Resource) -> str:
    return next(
        (str(plain(resource.inputs[k])) for k in SCOPES if resource.inputs.get(k) is not None),
        "?",
    )


def _condition(condition: Any) -> str:
    """Only the expression decides; a title or a description changes no access."""
    condition = plain(condition)
    if not isinstance(condition, dict) or not plain(condition.get("expression")):
        return ""
    return f" if {plain(condition.get('expression'))}"


def _grants(where: str, role: Any, members: list[str], scope: str, condition: Any) -> list[Grant]:
    when = _condition(condition)
    return [Grant(where, f"{plain(role)} to {m} on {scope}{when}") for m in sorted(set(members))]


def _member(resource: Resource) -> list[Grant]:
    inputs, scope = resource.inputs, _scope(resource)
    member = str(plain(inputs.get("member")))
    return _grants("member", inputs.get("role"), [member], scope, inputs.get("condition"))


def _binding(resource: Resource) -> list[Grant]:
    inputs, scope = resource.inputs, _scope(resource)
    members = [str(plain(m)) for _, m in items(inputs, "members")]
    return _grants("members", inputs.get("role"), members, scope, inputs.get("condition"))


def _policy(resource: Resource) -> list[Grant]:
    data = resource.inputs.get("policyData")
    if not known(data):
        return [Grant("policyData", NOT_KNOWN)]
    data = plain(data)
    try:
        parsed = json.loads(data) if isinstance(data, str) else data
    except ValueError:
        return [Grant("policyData", f"an unreadable policy: {data}")]
    if not isinstance(parsed, dict):
        return []
    found: list[Grant] = []
    for where, binding in items(parsed, "bindings"):
        if isinstance(binding, dict):
            members = [str(plain(m)) for _, m in items(binding, "members")]
            found += _grants(
                f"policyData.{where}",
                binding.get("role"),
                members,
                _scope(resource),
                binding.get("condition"),
            )
    return found


_READERS = {"member": _member, "binding": _binding, "policy": _policy}
PERMISSIONS = {f"gcp:{token}": _READERS[kind] for token, kind in KINDS.items()}
