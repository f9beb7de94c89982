"""The integration checker's refresh waits out a pool busy with an upload, and nothing else."""

from __future__ import annotations

import libvirt
import pytest

from tests.integration.libvirt_checks import refresh


class FakePool:
    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.calls = 0

    def refresh(self, flags: int) -> None:
        self.calls += 1
        if self.failures:
            # libvirtError takes libvirt's last error, if any, over the message: clear what an
            # earlier test's failed connection left.
            libvirt.virResetLastError()
            raise libvirt.libvirtError(self.failures.pop(0))


def test_a_busy_pool_is_refreshed_once_its_upload_ends() -> None:
    busy = "internal error: pool 'local-vm' has asynchronous jobs running."
    pool = FakePool([busy, busy])
    refresh(pool)  # type: ignore[arg-type]
    assert pool.calls == 3


def test_other_refresh_errors_are_not_retried() -> None:
    pool = FakePool(["cannot open directory '/gone': No such file or directory"])
    with pytest.raises(libvirt.libvirtError, match="No such file"):
        refresh(pool)  # type: ignore[arg-type]
    assert pool.calls == 1
