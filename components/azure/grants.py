"""What Azure role assignments grant, as policy/facts.py `Grant`s whose text compares equal for
the same grant: `<role definition> to <principal> on <scope>`, with its condition. SDK-free.

Resource IDs are case-insensitive in Azure, so role definitions and scopes are compared in
lower case. A grant that is not word for word one the assignment gave before is new.
"""

from __future__ import annotations

from policy.facts import Grant
from policy.model import Resource
from policy.values import plain

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def _role_assignment(resource: Resource) -> list[Grant]:
    inputs = resource.inputs
    role = str(plain(inputs.get("roleDefinitionId"))).lower()
    scope = str(plain(inputs.get("scope"))).lower()
    principal = str(plain(inputs.get("principalId")))
    condition = plain(inputs.get("condition"))
    when = f" if {condition}" if condition else ""
    return [Grant("roleDefinitionId", f"{role} to {principal} on {scope}{when}")]


PERMISSIONS = {ROLE_ASSIGNMENT: _role_assignment}
