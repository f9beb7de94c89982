"""Polling the running systems: until a replica streams, until an ingress answers healthy.

Progress is reported when what the target says changes, not on every poll (as
stageline.health.wait_healthy does for machines).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from components.dr_ops import DrOperations, DrSides, IngressHealth, ReplicationState, StackView
from stageline.dr.seams import Clock

T = TypeVar("T")
Echo = Callable[[str], None]


class WaitTimeout(Exception):
    """The timeout passed; the message names what was last seen."""


def poll(
    read: Callable[[], T],
    done: Callable[[T], bool],
    describe: Callable[[T], str],
    what: str,
    timeout: float,
    clock: Clock,
    every: float,
    echo: Echo,
) -> T:
    start = clock.monotonic()
    last = ""
    while True:
        seen = read()
        if done(seen):
            return seen
        line = describe(seen)
        if line != last:
            echo(f"  [{clock.monotonic() - start:4.0f} s] {line}")
            last = line
        if clock.monotonic() - start >= timeout:
            raise WaitTimeout(f"{what} after {timeout:.0f} s: {line}")
        clock.sleep(every)


def lag_words(state: ReplicationState) -> str:
    lag = "unknown" if state.lag_seconds is None else f"{state.lag_seconds:.1f} s"
    words = f"{state.role}, {'streaming' if state.streaming else 'not streaming'}, lag {lag}"
    return words + (f" ({state.detail})" if state.detail else "")


def wait_streaming(
    ops: DrOperations, sides: DrSides, timeout: float, clock: Clock, every: float, echo: Echo
) -> ReplicationState:
    """Until the replica streams from the primary with a known lag."""
    return poll(
        lambda: ops.replication(sides),
        lambda s: s.streaming and s.lag_seconds is not None,
        lag_words,
        f"{sides.replica.stack} does not replicate from {sides.primary.stack}",
        timeout,
        clock,
        every,
        echo,
    )


def wait_ingress(
    ops: DrOperations, view: StackView, timeout: float, clock: Clock, every: float, echo: Echo
) -> IngressHealth:
    """Until the stack's ingress answers /healthz."""
    return poll(
        lambda: ops.ingress_health(view),
        lambda h: h.healthy,
        lambda h: f"ingress: {h.detail}",
        f"{view.stack}'s ingress is not healthy",
        timeout,
        clock,
        every,
        echo,
    )
