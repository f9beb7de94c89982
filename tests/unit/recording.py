"""Mocks and a monitor that keep what a component registers, for unit tests to assert on.

Built on the offline plan's own mocks (`PlanMocks`), so a component under test sees the same
computed values (ids, names, ARN shapes) as `stageline plan`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pulumi
from pulumi.runtime.mocks import MockMonitor

from stageline.plan.mocks import PlanMocks
from stageline.plan.recorder import PlannedResource, RecordingMonitor

Test = TypeVar("Test", bound=Callable[..., Any])

StateHook = Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]
"""Extra computed outputs for a resource, on top of PlanMocks' (e.g. a realistic ARN)."""


class RecordingMocks(PlanMocks):
    """PlanMocks that keep every resource they create."""

    def __init__(self, state: StateHook | None = None) -> None:
        super().__init__()
        self.created: list[pulumi.runtime.MockResourceArgs] = []
        self._state = state

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):  # type: ignore[override]
        self.created.append(args)
        id_, state = super().new_resource(args)
        if self._state is not None:
            state = {**state, **self._state(args)}
        return id_, state

    def named(self, name: str) -> pulumi.runtime.MockResourceArgs:
        found = [r for r in self.created if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, got {len(found)}"
        return found[0]

    def of_type(self, suffix: str) -> list[pulumi.runtime.MockResourceArgs]:
        """Resources whose type token is, or ends with, `suffix`."""
        return [r for r in self.created if r.typ.endswith(suffix)]


class RequestMonitor(MockMonitor):
    """Keeps each registration request: its dependencies and resource options."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.requests[request.name] = request
        return super().RegisterResource(request)

    def urn_of(self, name: str) -> str:
        found = [u for u in self.resources if u.endswith(f"::{name}")]
        assert len(found) == 1, f"expected one URN for {name}, got {found}"
        return found[0]


def ensure_event_loop() -> None:
    """Pulumi's mocks need a current loop; an earlier test in the run may have closed it."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def record(state: StateHook | None = None) -> RequestMonitor:
    """Install recording mocks for the next registrations; the monitor's `.mocks` has them."""
    ensure_event_loop()
    mocks = RecordingMocks(state)
    monitor = RequestMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="stageline", stack="unit", preview=False, monitor=monitor
    )
    return monitor


class PlanRecorder(RecordingMonitor):
    """The offline plan's recorder that also keeps each registration request, for the
    dependencies and options it declares."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.requests[request.name] = request
        return super().RegisterResource(request)


def build(make: Callable[[], object]) -> PlanRecorder:
    """What `make` registers under the plan's own mocks, once every registration finished."""
    monitor = PlanRecorder(PlanMocks())
    pulumi.runtime.set_mocks(
        monitor.mocks, project="stageline", stack="unit", preview=False, monitor=monitor
    )
    pulumi.runtime.test(make)()
    return monitor


def only(recorder: RecordingMonitor, type_: str) -> PlannedResource:
    found = [r for r in recorder.planned if r.type == type_]
    assert len(found) == 1, f"expected one {type_}, got {[r.urn for r in found]}"
    return found[0]


_kept: list[Callable[[], object]] | None = None
"""The checks the running `program_test` keeps; None outside one."""


def after_registration(check: Callable[[Any], object]) -> Callable[[Any], None]:
    """An apply callback that keeps `check` and the value for `program_test` to run once every
    registration has finished.

    Pulumi's mocks answer registrations from a thread pool, so an apply whose own inputs have
    resolved can still run before a sibling resource reaches the mocks: a count of what was
    registered, read there, would sometimes miss one.
    """

    def keep(value: Any) -> None:
        assert _kept is not None, "after_registration is only for a program_test"
        _kept.append(functools.partial(check, value))

    return keep


def program_test(fn: Test) -> Test:
    """`pulumi.runtime.test`, then the checks `fn` kept with `after_registration`: at least one
    must have been kept, so that the test asserts something."""
    program = pulumi.runtime.test(fn)

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        global _kept
        _kept = []
        try:
            program(*args, **kwargs)
            checks = _kept
        finally:
            _kept = None
        assert checks, f"{fn.__name__} kept no check"
        for check in checks:
            check()

    return run  # type: ignore[return-value]
