"""`domainType: auto` on the real libvirtd: the probe guest, its verdict and its cache.

These machines offer domain type `kvm` (there is a /dev/kvm) but KVM cannot run a Linux
kernel: the guest spins without printing a line, or QEMU pauses it with an emulation failure.
Under TCG the same kernel boots to its panic in seconds, which shows the probe can succeed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import libvirt
import pytest

from components.libvirt.resources import kvm_probe
from components.libvirt.resources.connection import connect
from components.libvirt.resources.kvm_probe import (
    PROBE_PREFIX,
    QEMU_TRUST_S,
    Resolution,
    cache_key,
    offered_types,
    probe,
    read_cache,
    resolve,
    write_entry,
)
from tests.integration.libvirt_checks import REPO

pytestmark = pytest.mark.integration

LOCAL = "qemu:///system"
IMAGE = REPO / ".stageline" / "images" / "debian-12"


@pytest.fixture(scope="module")
def kernel() -> str:
    # Any Debian kernel serves the probe: an image already linked is used as it is, so that
    # this test does not re-point the clone's image link at another recipe's build.
    if not (IMAGE / "vmlinuz").is_file():
        subprocess.run([str(REPO / "scripts" / "make-guest-image")], check=True, timeout=1800)
    # The resolved path, as a volume's path on the host would be.
    return str((IMAGE / "vmlinuz").resolve(strict=True))


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    with connect(LOCAL) as c:
        assert "kvm" in offered_types(c), "these tests are about a host whose libvirt offers kvm"
        assert not probe_domains(c), "a probe guest is already running"
        yield c
        assert not probe_domains(c), "a probe guest was left behind"


def probe_domains(c: libvirt.virConnect) -> list[str]:
    return [d.name() for d in c.listAllDomains() if d.name().startswith(PROBE_PREFIX)]


def cache_entry(path: Path, c: libvirt.virConnect, kernel: str) -> dict[str, object]:
    return read_cache(path)[cache_key(c, kernel)]


def test_auto_falls_back_to_qemu_here_and_one_probe_answers_concurrent_callers(
    conn: libvirt.virConnect, kernel: str, tmp_path: Path
) -> None:
    cache = tmp_path / "kvm-probe.json"
    cache.write_text("{not json")  # a corrupt cache is probed over, not trusted or fatal

    def one() -> tuple[Resolution, float]:
        start = time.monotonic()
        with connect(LOCAL) as own:
            return resolve(own, "auto", kernel, cache_file=cache), time.monotonic() - start

    # Two providers creating domains at once: one probes, the other waits and reads its answer.
    with ThreadPoolExecutor(2) as pool:
        (first, t1), (second, t2) = pool.map(lambda _: one(), range(2))
    answers = sorted([first, second], key=lambda r: r.reason.endswith("(cached)"))
    probed, cached = answers
    assert [r.domain_type for r in answers] == ["qemu", "qemu"], answers
    assert probed.reason.startswith(f"KVM cannot run the kernel {kernel}: "), probed
    assert any(
        seen in probed.reason
        for seen in ("printed nothing", "paused the guest", "did not start", "did not reach")
    ), probed
    assert cached == Resolution("qemu", f"{probed.reason} (cached)"), answers
    entry = cache_entry(cache, conn, kernel)
    assert entry["domainType"] == "qemu" and entry["reason"] == probed.reason, entry
    print(f"\nKVM probe here: {max(t1, t2):.1f} s; {probed.reason}")


def test_the_probe_succeeds_under_tcg(conn: libvirt.virConnect, kernel: str) -> None:
    # The same probe, with the domain type forced to qemu: it does succeed where the CPU
    # emulation works, so the kvm verdict above is about KVM, not about the probe.
    outcome = probe(conn, kernel, domain_type="qemu", timeout=90)
    assert outcome.ok, outcome
    assert "Kernel panic" in outcome.console and "Unable to mount root" in outcome.console, (
        outcome.console[-2000:]
    )
    assert outcome.seconds < 90, outcome
    print(f"\nTCG probe here: {outcome.seconds} s")


def test_a_guest_paused_during_the_probe_is_a_failure_and_is_removed(
    conn: libvirt.virConnect, kernel: str
) -> None:
    # QEMU pauses a guest KVM cannot emulate; pausing the TCG probe guest from outside is the
    # same state, reached on purpose.
    def pause_the_probe() -> None:
        with connect(LOCAL) as other:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                for dom in other.listAllDomains():
                    if dom.name().startswith(PROBE_PREFIX) and dom.isActive():
                        time.sleep(0.5)
                        dom.suspend()
                        return
                time.sleep(0.05)

    with ThreadPoolExecutor(1) as pool:
        pausing = pool.submit(pause_the_probe)
        outcome = probe(conn, kernel, domain_type="qemu", timeout=90)
        pausing.result()
    assert not outcome.ok, outcome
    assert "QEMU paused the guest (reason: user)" in outcome.detail, outcome


def test_a_guest_that_does_not_start_or_does_not_finish_is_a_failure(
    conn: libvirt.virConnect, kernel: str, tmp_path: Path
) -> None:
    missing = probe(conn, str(tmp_path / "no-such-vmlinuz"), domain_type="qemu")
    assert not missing.ok, missing
    assert missing.detail.startswith("the probe guest did not start: "), missing
    assert "no-such-vmlinuz" in missing.detail, missing
    # A bound shorter than the silence allowed and than TCG's boot to the panic: the guest is
    # still running when it passes. (Under KVM here the guest may be paused instead.)
    slow = probe(conn, kernel, domain_type="qemu", timeout=1, silence=60)
    assert not slow.ok, slow
    assert slow.detail.startswith("the kernel did not reach its panic in 1 s"), slow


def test_a_cached_answer_is_returned_without_probing(
    conn: libvirt.virConnect, kernel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_probe(*_: object, **__: object) -> None:
        raise AssertionError("a cached answer was probed again")

    monkeypatch.setattr(kvm_probe, "probe", no_probe)
    cache = tmp_path / "kvm-probe.json"
    # The opposite of what a probe finds here: only the cache can answer kvm.
    write_entry(cache, cache_key(conn, kernel), Resolution("kvm", "planted"), time.time())
    assert resolve(conn, "auto", kernel, cache_file=cache) == Resolution("kvm", "planted (cached)")
    # A kvm answer does not expire: a working KVM stays working.
    month_ago = time.time() - 30 * 24 * 3600
    write_entry(cache, cache_key(conn, kernel), Resolution("kvm", "old"), month_ago)
    assert resolve(conn, "auto", kernel, cache_file=cache) == Resolution("kvm", "old (cached)")


def test_a_qemu_answer_older_than_its_trust_is_probed_again(
    conn: libvirt.virConnect, kernel: str, tmp_path: Path
) -> None:
    cache = tmp_path / "kvm-probe.json"
    key = cache_key(conn, kernel)
    recent = time.time() - QEMU_TRUST_S + 3600
    write_entry(cache, key, Resolution("qemu", "planted recent"), recent)
    assert resolve(conn, "auto", kernel, cache_file=cache).reason == "planted recent (cached)"

    stale = time.time() - QEMU_TRUST_S - 3600
    write_entry(cache, key, Resolution("qemu", "planted stale"), stale)
    before = time.time()
    found = resolve(conn, "auto", kernel, cache_file=cache)
    assert found.domain_type == "qemu", found
    assert found.reason.startswith("KVM cannot run the kernel"), found
    entry = cache_entry(cache, conn, kernel)
    assert entry["reason"] == found.reason and float(entry["probedAt"]) >= before, entry


def test_a_kernel_in_a_pool_is_known_by_its_path_and_size(
    conn: libvirt.virConnect, kernel: str, tmp_path: Path
) -> None:
    host = conn.getHostname()
    assert cache_key(conn, kernel) == f"{host}:{kernel}"  # in no pool: its path only
    pool_dir = tmp_path / "pool"
    pool_dir.mkdir()
    uploaded = pool_dir / "vmlinuz"
    shutil.copy(kernel, uploaded)
    pool = conn.storagePoolCreateXML(
        f"<pool type='dir'><name>{PROBE_PREFIX}pool-{tmp_path.name[-8:]}</name>"
        f"<target><path>{pool_dir}</path></target></pool>"
    )
    try:
        size = uploaded.stat().st_size
        assert cache_key(conn, str(uploaded)) == f"{host}:{uploaded}#{size}"
        # A new kernel at the same path is another key, without the pool being refreshed.
        with uploaded.open("ab") as out:
            out.write(b"\0" * 4096)
        assert cache_key(conn, str(uploaded)) == f"{host}:{uploaded}#{size + 4096}"
    finally:
        pool.destroy()


def test_configured_types_pass_through_and_a_disk_booted_image_keeps_kvm(
    conn: libvirt.virConnect, kernel: str, tmp_path: Path
) -> None:
    cache = tmp_path / "kvm-probe.json"
    for wanted in ("kvm", "qemu"):
        assert resolve(conn, wanted, kernel, cache_file=cache) == Resolution(
            wanted, "as configured"
        )
    found = resolve(conn, "auto", None, cache_file=cache)
    assert found.domain_type == "kvm", found
    # None of these probed or cached anything.
    assert not cache.exists(), json.loads(cache.read_text())
