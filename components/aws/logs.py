"""The stage's CloudWatch log group name, known before anything is created.

Compute is built before observability (the alarms need the group's name), yet instances must
ship their container logs into the stage's log group from first boot. The name is therefore
derived from the project and stack alone: compute writes it into the boot script and scopes the
instance role to it, and observability creates the group under exactly that name.

The group has no inputs that wait on anything, so the engine creates it at the start of an `up`,
while the instances wait for the NAT path (minutes); should an instance still start first, its
boot script retries starting the container (bounded backoff) until the group is there.
"""

from __future__ import annotations

import pulumi


def stage_log_group_name() -> str:
    """`/<project>/<stack>/app`: unique per stack in an account, stable across updates."""
    return f"/{pulumi.get_project()}/{pulumi.get_stack()}/app"


def log_group_arn_pattern(partition: str, account: str, group: str) -> str:
    """The group's log streams, for an identity policy (`:*` covers the streams in it)."""
    return f"arn:{partition}:logs:*:{account}:log-group:{group}:*"
