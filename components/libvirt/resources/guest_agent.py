"""Programs run inside a guest through the QEMU guest agent, over the libvirt connection.

No network path to the guest is needed (it lives on a site's private network). Kept free of
the config model: dynamic providers import it on every call.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import libvirt
import libvirt_qemu

AGENT_TIMEOUT = 10
EXEC_TIMEOUT = 40.0


class AgentUnavailable(Exception):
    """The guest agent does not answer yet (the guest is still booting)."""


def _agent(dom: libvirt.virDomain, command: str, **arguments: Any) -> Any:
    message = json.dumps({"execute": command, "arguments": arguments})
    try:
        answer = libvirt_qemu.qemuAgentCommand(dom, message, AGENT_TIMEOUT, 0)
    except libvirt.libvirtError as exc:
        raise AgentUnavailable(str(exc)) from exc
    return json.loads(answer)["return"]


def guest_exec(
    dom: libvirt.virDomain, path: str, args: list[str], timeout: float = EXEC_TIMEOUT
) -> tuple[int, str, str]:
    """Run a program in the guest and wait for it: (exit code, stdout, stderr)."""
    pid = _agent(dom, "guest-exec", path=path, arg=args, **{"capture-output": True})["pid"]
    end = time.monotonic() + timeout
    while True:
        status = _agent(dom, "guest-exec-status", pid=pid)
        if status.get("exited"):
            out = base64.b64decode(status.get("out-data", "")).decode(errors="replace")
            err = base64.b64decode(status.get("err-data", "")).decode(errors="replace")
            return int(status.get("exitcode", -1)), out, err
        if time.monotonic() > end:
            raise AgentUnavailable(f"{path} did not finish in {timeout:.0f} s")
        time.sleep(0.3)
