"""Whether a change widens who may reach the stage or what it may do: new inbound sources or
ports on a security group or firewall, or new grants in an IAM policy. A promotion that does
needs an approval on any tier (CDK Pipelines' ConfirmPermissionsBroadening).

It compares a resource's inputs before and after the change through the target's facts
(policy/facts.py `ingress` and `permissions`), so shared code names no provider type.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from policy.evaluate import facts_for
from policy.facts import IngressRule, TargetPolicy
from policy.model import Resource

Kind = Literal["ingress", "permissions"]
ALL_PORTS = "all ports"


@dataclass(frozen=True)
class Widening:
    urn: str
    type: str
    kind: Kind
    added: tuple[str, ...]
    """What the change adds, readable: `10.99.0.0/24 -> 80`, `Allow s3:* on *`."""

    def describe(self) -> str:
        what = "ingress" if self.kind == "ingress" else "permissions"
        return f"{self.type} {self.urn.rsplit('::', 1)[-1]} widens its {what}: " + "; ".join(
            self.added
        )


Opening = tuple[str, tuple[int, int] | None]
"""(source, inclusive port range); None: every port."""


def _openings(rules: list[IngressRule]) -> set[Opening]:
    """A rule is the product of its sources and its port ranges."""
    return {
        (source, ports)
        for r in rules
        for source in r.sources
        for ports in (r.ports if r.ports is not None else (None,))
    }


def _contains(wide: str, narrow: str) -> bool:
    """Whether source `wide` admits every address `narrow` does (text compare for tags)."""
    if wide == narrow:
        return True
    try:
        outer, inner = ipaddress.ip_network(wide, strict=False), ipaddress.ip_network(narrow, False)
    except ValueError:
        return False
    return outer.version == inner.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _covered(opening: Opening, before: set[Opening]) -> bool:
    source, ports = opening
    # In a fixed order, so that the result never depends on a set's iteration.
    for old_source, old_ports in sorted(before, key=str):
        if not _contains(old_source, source):
            continue
        if old_ports is None or (
            ports is not None and old_ports[0] <= ports[0] <= ports[1] <= old_ports[1]
        ):
            return True
    return False


def _text(opening: Opening) -> str:
    source, ports = opening
    if ports is None:
        return f"{source} -> {ALL_PORTS}"
    lo, hi = ports
    return f"{source} -> {lo}" if lo == hi else f"{source} -> {lo}-{hi}"


def widenings(
    before: Resource | None, after: Resource | None, facts: TargetPolicy | None = None
) -> list[Widening]:
    """What `after` lets in or grants that `before` did not. A resource that is created
    (`before` None) widens by everything it opens; a deleted one (`after` None) by nothing."""
    if after is None:
        return []
    facts = facts if facts is not None else facts_for(after.type)
    found: list[Widening] = []
    read_ingress = facts.ingress.get(after.type)
    if read_ingress is not None:
        old = _openings(read_ingress(before)) if before is not None else set()
        new = sorted({_text(o) for o in _openings(read_ingress(after)) if not _covered(o, old)})
        if new:
            found.append(Widening(after.urn, after.type, "ingress", tuple(new)))
    read_grants = facts.permissions.get(after.type)
    if read_grants is not None:
        old_grants = {g.text for g in read_grants(before)} if before is not None else set()
        added = sorted({g.text for g in read_grants(after)} - old_grants)
        if added:
            found.append(Widening(after.urn, after.type, "permissions", tuple(added)))
    return found
