"""`domainType: auto`: KVM only where KVM really runs a Linux kernel, found by a probe guest.

Some hosts offer domain type `kvm` (there is a /dev/kvm, libvirt lists it) and still cannot run
a Linux kernel under it: the guest spins without printing a line, QEMU pauses it with "KVM
internal error … emulation failure", or QEMU refuses to start. `resolve` finds out once per
host and kernel by booting that kernel in a tiny transient guest, and caches the answer.

Imported by the dynamic provider process: standard library, libvirt and filelock only.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import filelock
import libvirt

from components.libvirt.resources.connection import not_found, sub, to_xml

PROBE_PREFIX = "stageline-kvm-probe-"
PROBE_MEMORY_MIB = 192
PROBE_CMDLINE = "console=ttyS0 panic=1"
"""No root and no initrd: the kernel panics at "VFS: Unable to mount root fs", reboots, and
`<on_reboot>destroy</on_reboot>` makes the transient guest vanish. panic=1, not panic=-1: the
second before the reboot lets the console deliver the panic's lines, which a guest that ends at
once loses (its last kilobyte or so never leaves QEMU's serial port)."""

PROBE_TIMEOUT_S = 60.0
"""A working KVM (or even TCG) gets the kernel to its panic in a few seconds."""

SILENCE_S = 15.0
"""A kernel booted with console=ttyS0 prints its first line well within a second under KVM
(about a second under TCG on a busy 2-core host). A guest that printed nothing for this long
spins where KVM cannot run it, so the probe gives up early instead of waiting out the timeout."""

QEMU_TRUST_S = 7 * 24 * 3600.0
"""A cached "KVM does not work" is trusted for a week, then probed again: a host's KVM may be
fixed (a kernel or firmware update), and running on TCG when KVM works only costs speed. A
cached "KVM works" is kept until the kernel changes: a working KVM does not regress silently,
and a guest that fails under it fails loudly."""

LOCK_TIMEOUT_S = 5 * 60.0
"""Waiting for another process's probe (at most PROBE_TIMEOUT_S each)."""

CACHE_VERSION = 1


@dataclass(frozen=True)
class Resolution:
    domain_type: str
    reason: str


@dataclass(frozen=True)
class ProbeOutcome:
    ok: bool
    detail: str
    """What was seen: the kernel's panic, the paused reason, libvirt's error, the timeout."""
    seconds: float
    console: str
    """The probe guest's console output (empty when the console could not be opened)."""


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stageline" / "kvm-probe.json"


def offered_types(conn: libvirt.virConnect, arch: str = "x86_64") -> set[str]:
    caps = ET.fromstring(conn.getCapabilities())
    return {
        d.get("type", "")
        for guest in caps.iter("guest")
        if (a := guest.find("arch")) is not None and a.get("name") == arch
        for d in a.iter("domain")
    }


def resolve(
    conn: libvirt.virConnect, wanted: str, kernel: str | None, cache_file: Path | None = None
) -> Resolution:
    """The domain type to define: `wanted` unless it is `auto`, which picks `kvm` only when
    KVM runs `kernel` (a path on the libvirt host) on this host."""
    if wanted != "auto":
        return Resolution(wanted, "as configured")
    if "kvm" not in offered_types(conn):
        # No /dev/kvm (nested or container hosts): QEMU's software emulation still runs the VM.
        return Resolution("qemu", "the host offers no KVM")
    if kernel is None:
        # An image that boots from its disk (the test boot sector) runs in real mode, which
        # even a KVM that cannot run a Linux kernel runs; and there is no kernel to probe with.
        return Resolution("kvm", "the host offers KVM (no kernel to probe: the image boots itself)")
    path = cache_file or cache_path()
    key = cache_key(conn, kernel)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Pulumi creates domains in parallel, in threads and processes: one probe per host and
    # kernel, the others wait for it and read its answer. flock conflicts across open files,
    # so threads of one process exclude each other too.
    with filelock.FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_S):
        cached = fresh(read_cache(path).get(key), time.time())
        if cached is not None:
            return cached
        outcome = probe(conn, kernel)
        if outcome.ok:
            found = Resolution("kvm", f"KVM ran the kernel {kernel} ({outcome.detail})")
        else:
            found = Resolution("qemu", f"KVM cannot run the kernel {kernel}: {outcome.detail}")
        with contextlib.suppress(OSError):
            # An unwritable cache costs a probe next time, nothing else.
            write_entry(path, key, found, time.time())
        return found


def cache_key(conn: libvirt.virConnect, kernel: str) -> str:
    """The host's name and the kernel's identity: its path, and its size when it is a volume.

    The kernel is a file on the libvirt host, which may be remote: its content cannot be hashed
    from here, but a kernel uploaded as a volume has a size libvirt reports. A new kernel at the
    same path (a rebuilt image) almost always differs in size, so it is probed again. A file in
    no pool is keyed by its path only."""
    size: int | None = None
    with contextlib.suppress(libvirt.libvirtError):
        # info() re-reads the file, so a kernel re-uploaded to the same path shows its new size.
        size = int(conn.storageVolLookupByPath(kernel).info()[1])
    identity = kernel if size is None else f"{kernel}#{size}"
    return f"{conn.getHostname()}:{identity}"


def fresh(entry: Any, now: float) -> Resolution | None:
    """A cache entry's answer, or None when it is malformed or a `qemu` answer too old."""
    if not isinstance(entry, dict):
        return None
    domain_type, reason, at = entry.get("domainType"), entry.get("reason"), entry.get("probedAt")
    if domain_type not in ("kvm", "qemu") or not isinstance(reason, str):
        return None
    if not isinstance(at, int | float) or isinstance(at, bool):
        return None
    if domain_type == "qemu" and now - at > QEMU_TRUST_S:
        return None
    return Resolution(domain_type, f"{reason} (cached)")


def read_cache(path: Path) -> dict[str, Any]:
    """The cache's entries; empty when the file is missing, unreadable or not ours."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def write_entry(path: Path, key: str, found: Resolution, at: float) -> None:
    entries = {**read_cache(path), key: {"domainType": found.domain_type, "reason": found.reason}}
    entries[key]["probedAt"] = at
    text = json.dumps({"version": CACHE_VERSION, "entries": entries}, indent=2, sort_keys=True)
    # Atomic: a reader sees the old file or the new one, never half of it.
    fd, tmp = tempfile.mkstemp(prefix=".kvm-probe-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def probe_xml(name: str, kernel: str, domain_type: str) -> str:
    root = ET.Element("domain", type=domain_type)
    sub(root, "name", name)
    sub(root, "memory", str(PROBE_MEMORY_MIB), unit="MiB")
    sub(root, "vcpu", "1")
    os_ = sub(root, "os")
    # The same machine as stageline's domains: it is that machine KVM must run.
    sub(os_, "type", "hvm", arch="x86_64", machine="pc")
    sub(os_, "kernel", kernel)
    sub(os_, "cmdline", PROBE_CMDLINE)
    for event in ("on_poweroff", "on_reboot", "on_crash"):
        sub(root, event, "destroy")
    devices = sub(root, "devices")
    serial = sub(devices, "serial", type="pty")
    sub(serial, "target", port="0")
    sub(devices, "console", type="pty")
    return to_xml(root)


class _Console:
    """A domain's console, read without blocking from the loop that watches the domain.

    Non-blocking and on one thread: a blocking read would need a thread of its own, sharing
    the connection with the watcher, and a probe must never hang."""

    def __init__(self, conn: libvirt.virConnect, dom: libvirt.virDomain) -> None:
        self._stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        dom.openConsole(None, self._stream, 0)
        self._chunks: list[bytes] = []
        self.ended = False

    def drain(self) -> None:
        """Reads what the guest printed so far; `ended` once the stream closed (guest gone)."""
        while not self.ended:
            try:
                data = self._stream.recv(65536)
            except libvirt.libvirtError:
                self.ended = True
                return
            if isinstance(data, int):  # -2: nothing more for now
                return
            if not data:
                self.ended = True
                return
            self._chunks.append(data)

    @property
    def printed(self) -> bool:
        return bool(self._chunks)

    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace").replace("\r", "")

    def close(self) -> None:
        with contextlib.suppress(libvirt.libvirtError):
            self._stream.abort()


def _last_line(console: str) -> str:
    lines = [line.strip() for line in console.splitlines() if line.strip()]
    return f'; last console line: "{lines[-1]}"' if lines else ""


def _paused_reason(reason: int) -> str:
    names = {
        getattr(libvirt, n): n.removeprefix("VIR_DOMAIN_PAUSED_").lower().replace("_", " ")
        for n in dir(libvirt)
        if n.startswith("VIR_DOMAIN_PAUSED_")
    }
    return names.get(reason, str(reason))


def probe(
    conn: libvirt.virConnect,
    kernel: str,
    domain_type: str = "kvm",
    timeout: float = PROBE_TIMEOUT_S,
    silence: float = SILENCE_S,
) -> ProbeOutcome:
    """Boot `kernel` in a transient, disk-less guest of `domain_type` and watch it: it works when
    the kernel reaches its panic (no root) and the guest, rebooting, vanishes."""
    name = f"{PROBE_PREFIX}{secrets.token_hex(4)}"
    start = time.monotonic()
    dom: libvirt.virDomain | None = None
    console: _Console | None = None

    def outcome(ok: bool, detail: str) -> ProbeOutcome:
        text = console.text() if console else ""
        return ProbeOutcome(ok, detail, round(time.monotonic() - start, 1), text)

    try:
        try:
            # Started paused, so that the console is attached before the first byte.
            xml = probe_xml(name, kernel, domain_type)
            dom = conn.createXML(xml, libvirt.VIR_DOMAIN_START_PAUSED)
        except libvirt.libvirtError as exc:
            return outcome(False, f"the probe guest did not start: {exc}")
        # Without a console the probe still works, on the vanishing alone and the full timeout.
        with contextlib.suppress(libvirt.libvirtError):
            console = _Console(conn, dom)
        try:
            dom.resume()
        except libvirt.libvirtError as exc:
            return outcome(False, f"the probe guest did not run: {exc}")
        running_since = time.monotonic()
        while True:
            elapsed = time.monotonic() - running_since
            if console is not None:
                console.drain()
            try:
                state, reason = dom.state()
            except libvirt.libvirtError as exc:
                if not not_found(exc):
                    return outcome(False, f"libvirt lost the probe guest: {exc}")
                return _vanished(console, outcome)
            text = console.text() if console else ""
            if state == libvirt.VIR_DOMAIN_PAUSED:
                return outcome(
                    False,
                    f"QEMU paused the guest (reason: {_paused_reason(reason)}) after "
                    f"{elapsed:.0f} s{_last_line(text)}",
                )
            if console is not None and not console.printed and elapsed > silence:
                return outcome(
                    False, f"the guest printed nothing on its console in {silence:.0f} s"
                )
            if elapsed > timeout:
                return outcome(
                    False,
                    f"the kernel did not reach its panic in {timeout:.0f} s{_last_line(text)}",
                )
            time.sleep(0.2)
    finally:
        if dom is not None:
            try:
                dom.destroy()
            except libvirt.libvirtError as exc:
                if not not_found(exc) and exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
                    raise
        if console is not None:
            console.close()


def _vanished(console: _Console | None, outcome: Any) -> ProbeOutcome:
    if console is None:
        return outcome(True, "the guest rebooted at the kernel's panic (console not read)")
    console.drain()  # the last lines, up to the stream's end
    if "Kernel panic" in console.text():
        return outcome(True, "the kernel booted to its panic at the missing root")
    return outcome(
        False, f"the guest vanished before the kernel's panic{_last_line(console.text())}"
    )
