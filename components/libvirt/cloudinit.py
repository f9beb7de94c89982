"""cloud-init NoCloud seed images, built in memory: no genisoimage needed on either machine."""

from __future__ import annotations

import hashlib
import io
import json

import pycdlib

from components.accounts import LOGIN_USER


def user_data(
    hostname: str,
    ssh_public_key: str,
    write_files: list[dict[str, str]],
    run: list[str | list[str]],
) -> str:
    """cloud-config for a guest of the stageline image: everything it runs is baked into the
    image (guests have no internet), so nothing is installed at boot."""
    user: dict[str, object] = {
        "name": LOGIN_USER,
        "groups": ["sudo"],
        "shell": "/bin/bash",
        "sudo": "ALL=(ALL) NOPASSWD:ALL",
    }
    if ssh_public_key:
        user["ssh_authorized_keys"] = [ssh_public_key]
    # JSON is valid YAML; cloud-init only needs the first-line marker.
    body = {
        "hostname": hostname,
        "users": [user],
        "ssh_pwauth": False,
        "write_files": write_files,
        "runcmd": run,
    }
    return "#cloud-config\n" + json.dumps(body, indent=2, sort_keys=True) + "\n"


def instance_id(hostname: str, user_data_text: str) -> str:
    """Changes with the seed: a guest given a new seed is a new instance to cloud-init."""
    return f"{hostname}-{hashlib.sha256(user_data_text.encode()).hexdigest()[:12]}"


def seed_iso(hostname: str, user_data_text: str) -> bytes:
    """An ISO 9660 image labelled `cidata` holding meta-data and user-data."""
    instance = instance_id(hostname, user_data_text)
    meta = f"instance-id: {instance}\nlocal-hostname: {hostname}\n".encode()
    user = user_data_text.encode()
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident="cidata")
    for name, data in (("META_DATA", meta), ("USER_DATA", user)):
        iso.add_fp(
            io.BytesIO(data),
            len(data),
            f"/{name}.;1",
            rr_name=name.lower().replace("_", "-"),
            joliet_path=f"/{name.lower().replace('_', '-')}",
        )
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()
