"""cloud-init NoCloud seed images, built in memory: no genisoimage needed on either machine."""

from __future__ import annotations

import io
import json

import pycdlib

from components.accounts import LOGIN_USER


def user_data(
    hostname: str,
    ssh_public_key: str,
    packages: list[str],
    write_files: list[dict[str, str]],
    run: list[str | list[str]],
) -> str:
    # JSON is valid YAML; cloud-init only needs the first-line marker.
    body = {
        "hostname": hostname,
        "users": [
            {
                "name": LOGIN_USER,
                "groups": ["sudo"],
                "shell": "/bin/bash",
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "ssh_authorized_keys": [ssh_public_key] if ssh_public_key else [],
            }
        ],
        "ssh_pwauth": False,
        "packages": packages,
        "package_update": bool(packages),
        "write_files": write_files,
        "runcmd": run,
    }
    return "#cloud-config\n" + json.dumps(body, indent=2, sort_keys=True) + "\n"


def seed_iso(instance_id: str, hostname: str, user_data_text: str) -> bytes:
    """An ISO 9660 image labelled `cidata` holding meta-data and user-data."""
    meta = f"instance-id: {instance_id}\nlocal-hostname: {hostname}\n".encode()
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
