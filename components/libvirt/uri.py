"""A libvirt connection URI read for its SSH parts. Plain stdlib: the dynamic providers import
it on every provider start, where the settings model's pydantic would cost a tenth of a second."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

SSH_SCHEMES = ("qemu+ssh",)


@dataclass(frozen=True)
class SiteUri:
    uri: str

    @property
    def is_remote(self) -> bool:
        return urlparse(self.uri).scheme in SSH_SCHEMES

    @property
    def ssh_host(self) -> str:
        return urlparse(self.uri).hostname or ""

    @property
    def ssh_user(self) -> str:
        return urlparse(self.uri).username or "root"

    @property
    def ssh_port(self) -> int:
        return urlparse(self.uri).port or 22

    def query(self, key: str) -> str | None:
        values = parse_qs(urlparse(self.uri).query).get(key)
        return values[0] if values else None
