"""The README's main command, exactly as written, on a fresh clone of this repository.

`git clone` of the committed HEAD into a temporary folder, then the command from the README's
"The two commands" block run there by bash, with nothing typed before it: no virtualenv on
PATH, no backend or passphrase variables. Its effects are checked where they land: the
stack's state file in the clone's own `.stageline/state`, and libvirt itself. The clone's
`stageline destroy local --yes` then tears everything down.

The stage's guests boot the Debian image under software emulation and `up` waits until the
app serves: on a warm machine this takes about three minutes; scripts/setup reuses the
dependencies and the engine cached by content hash outside the clone (see scripts/setup), and
scripts/services the guest image. Run it alone under the libvirt lock: it creates the `local`
stage's objects.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.libvirt_checks import guest_ip, healthz_in_namespace, objects, remove_all

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LOCAL = "qemu:///system"
PREFIX = "local-"
# Where the clone's engine and dependencies come from when warm; never inside the clone.
TIMEOUT_S = 1800


def readme_main_command(readme: Path) -> str:
    """The command of "The two commands" that brings up `local`, as the README writes it."""
    text = readme.read_text()
    section = re.search(r"^## The two commands\n(.*?)^## ", text, re.M | re.S)
    assert section, "README has no 'The two commands' section"
    block = re.search(r"```sh\n(.*?)```", section.group(1), re.S)
    assert block, "'The two commands' has no sh code block"
    commands = [
        line.strip()
        for line in block.group(1).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    main = [c for c in commands if re.search(r"\bstageline up local\b", c)]
    assert len(main) == 1, f"expected one command bringing up local, found {commands}"
    return main[0]


def user_shell_env(clone: Path) -> dict[str, str]:
    """The environment of a user's login shell: no venv, nothing stageline or Pulumi set."""
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PULUMI_", "STAGELINE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    path = [
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if p and "/.venv/" not in f"{p}/" and ".stageline" not in p
    ]
    env["PATH"] = os.pathsep.join(path)
    # CI reaches only the package registries, as .ci/run says; a developer machine that
    # reaches the download site would only skip probing it.
    if os.environ.get("STAGELINE_ENGINE_OFFLINE"):
        env["STAGELINE_ENGINE_OFFLINE"] = os.environ["STAGELINE_ENGINE_OFFLINE"]
    return env


def state_resources(clone: Path) -> list[dict[str, object]]:
    stack = clone / ".stageline" / "state" / ".pulumi" / "stacks" / "stageline" / "local.json"
    assert stack.is_file(), f"no state file for local under {stack.parent}"
    checkpoint = json.loads(stack.read_text())["checkpoint"]
    return list((checkpoint.get("latest") or {}).get("resources") or [])


def names_of(resources: list[dict[str, object]], type_suffix: str) -> set[str]:
    found: set[str] = set()
    for res in resources:
        if str(res.get("type", "")).endswith(type_suffix):
            outputs = res.get("outputs")
            assert isinstance(outputs, dict), res
            found.add(str(outputs["name"]))
    return found


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    found = objects(LOCAL, PREFIX)
    if found.domains or found.networks or found.pools:
        pytest.fail(f"libvirt already holds {PREFIX}* objects ({found}); destroy local first")
    target = tmp_path / "stageline"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True, timeout=300)
    yield target
    # Whatever the test reached, libvirt is left clean for the next run.
    remove_all(LOCAL, PREFIX)


def run(cmd: str, clone: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", cmd],
        cwd=clone,
        env=user_shell_env(clone),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def test_readme_main_command_brings_up_local_on_a_fresh_clone(clone: Path) -> None:
    command = readme_main_command(clone / "README.md")
    assert not (clone / ".stageline" / "state").exists(), "the clone must start without state"

    up = run(command, clone)
    output = f"$ {command}\n{up.stdout}\n{up.stderr}"
    try:
        assert up.returncode == 0, output
        for raw in ("code: 1", " stdout: ", " stderr: "):
            assert raw not in output, f"a raw engine error reached the user:\n{output}"

        resources = state_resources(clone)
        domains = names_of(resources, "libvirt:Domain")
        networks = names_of(resources, "libvirt:Network")
        pools = names_of(resources, "libvirt:Pool")
        assert domains and networks and pools, [r.get("type") for r in resources]

        host = objects(LOCAL, PREFIX)
        assert set(host.domains) == domains, (host, domains)
        assert all(host.domains.values()), f"domains not running: {host.domains}"
        assert set(host.networks) == networks and all(host.networks.values()), host
        assert set(host.pools) == pools and all(host.pools.values()), host

        # It ends with the example app serving the release, and says how to look at it.
        assert "local: 3 machines healthy" in up.stdout, output
        assert "stageline status local" in up.stdout, output
        code, body = healthz_in_namespace(guest_ip(LOCAL, "local-net", "local-app-0"), 8080)
        assert code == 200, body
        assert body["appVersion"] == "1.0.0", body
        assert body["database"]["reachable"] is True, body
    finally:
        down = run(".venv/bin/stageline destroy local --yes", clone)

    assert down.returncode == 0, f"{down.stdout}\n{down.stderr}"
    left = objects(LOCAL, PREFIX)
    assert not (left.domains or left.networks or left.pools or left.volumes), left
    assert state_resources(clone) == [], "destroy left resources in the state"
