"""What a target tells the policies about its provider: which type tokens and properties mean
encryption, public access, ingress, data protection, tags, boot data and sizes.

Each target defines one `TargetPolicy` in its SDK-free `components/<target>/policy.py`, found
through the target registry (`Target.policy`); the rules in policy/rules.py stay generic.
Everything is keyed by type token, and every function reads plain input values (camelCase,
as the engine sends them), so the facts hold for a plan under mocks and for the engine alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policy.model import Problem, Resource
from policy.values import get, is_true

Check = Callable[[Resource], list[Problem]]
"""A resource -> what is wrong with it for one concern (empty: nothing)."""
DataCheck = Callable[[Resource], "list[Problem] | None"]
"""A resource -> None when it holds no data (a boot image beside the data volumes), else what is
wrong with its own deletion protection and backup settings (empty: nothing)."""


@dataclass(frozen=True)
class IngressRule:
    """One rule that lets traffic in, as the generic ingress policy reads it."""

    property: str
    """Where it is written, e.g. `ingress[0]`."""
    sources: tuple[str, ...]
    """Source ranges or service tags as written (`0.0.0.0/0`, `*`, `Internet`)."""
    ports: tuple[tuple[int, int], ...] | None
    """Inclusive port ranges it opens; None: every port (protocol all, or no port given)."""


@dataclass(frozen=True)
class BootText:
    """Text a machine runs or reads at boot (user data, custom data, a cloud-init seed)."""

    property: str
    value: Any
    """Decoded text, or a policy.model.Secret when it is marked secret; any other value (missing,
    unknown during a preview) is no text, and the rule skips it."""


@dataclass(frozen=True)
class SizeReading:
    """A machine or database shape as the resource sets it, and the abstract size class it is
    (components/spec.py SIZE_CLASSES), or None when it is none of the target's classes."""

    property: str
    value: Any
    size: str | None


@dataclass(frozen=True)
class Grant:
    """One permission a policy document or role binding gives, as text that compares equal
    when the grant is the same: `Allow s3:GetObject on arn:aws:s3:::bucket/*`."""

    property: str
    """Where it is written, e.g. `policy.Statement[0]`."""
    text: str


Ingress = Callable[[Resource], list[IngressRule]]
Permissions = Callable[[Resource], list[Grant]]
Boot = Callable[[Resource], list[BootText]]
Sizes = Callable[[Resource], list[SizeReading]]


@dataclass(frozen=True)
class TargetPolicy:
    encryption: Mapping[str, Check] = field(default_factory=dict)
    """Type -> where its data at rest could be left unencrypted."""
    public_database: Mapping[str, Check] = field(default_factory=dict)
    """Type -> how a database could be reached from the internet."""
    ingress: Mapping[str, Ingress] = field(default_factory=dict)
    """Type -> the inbound rules it holds."""
    permissions: Mapping[str, Permissions] = field(default_factory=dict)
    """Type of an IAM policy, role binding or role assignment -> the grants it gives (what a
    promotion must not widen without an approval, see policy/broadening.py)."""
    data: Mapping[str, DataCheck] = field(default_factory=dict)
    """Type of a data resource (database, bucket, data volume) -> its own deletion protection
    and backup settings that a production stage must turn on. A data resource must also be
    `protect`ed in production; the rule checks that."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Type of every taggable resource stageline registers -> the property holding its tags or
    labels (dotted path)."""
    boot: Mapping[str, Boot] = field(default_factory=dict)
    """Type -> the boot texts it carries."""
    sizes: Mapping[str, Sizes] = field(default_factory=dict)
    """Type -> the shapes it sets."""
    not_checked: Mapping[str, str] = field(default_factory=dict)
    """Policy name -> why this target has nothing for it to check (shown in the docs/tests)."""

    def is_data(self, resource: Resource) -> bool:
        """Whether the resource holds data: replacing or deleting it loses that data."""
        check = self.data.get(resource.type)
        return check is not None and check(resource) is not None


NO_POLICY = TargetPolicy()
"""For resources of no target (providers, random, the stack): only stage-wide rules apply."""


def reverse(mapping: Mapping[str, Any]) -> dict[Any, str]:
    """size class -> shape, turned into shape -> size class (the first class wins a tie)."""
    found: dict[Any, str] = {}
    for size, shape in mapping.items():
        found.setdefault(shape, size)
    return found


def force_destroy_problems(resource: Resource, fix: str) -> list[Problem]:
    """A bucket whose `forceDestroy` lets a destroy delete it with its objects (the targets
    with that flag share it; `fix` says how each one turns it off)."""
    if is_true(get(resource.inputs, "forceDestroy")):
        return [Problem("forceDestroy", True, "a destroy deletes the bucket with its objects", fix)]
    return []
