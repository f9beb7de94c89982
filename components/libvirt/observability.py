"""What a KVM host can honestly carry: every VM's console log, kept and rotated on the host.

Console output goes to `/var/log/stageline/<stack>/<vm>.log` (written by virtlogd), rotated
daily and kept logRetentionDays. A site has no metrics or alarm service, so alarms are not
provisioned here (alarm_count 0); the README says so.
"""

from __future__ import annotations

import shlex

import pulumi

from components.libvirt.resources.host_command import HostCommand
from components.libvirt.site import LibvirtSite
from components.observability import Observability, ObservabilityArgs


def logrotate_conf(log_dir: str, days: int) -> str:
    return (
        f"{log_dir}/*.log {{\n  daily\n  rotate {days}\n  missingok\n  notifempty\n"
        "  compress\n  copytruncate\n}\n"
    )


class LibvirtObservability(Observability):
    rotation: HostCommand

    def __init__(
        self,
        name: str,
        args: ObservabilityArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        site: LibvirtSite,
    ) -> None:
        super().__init__("stageline:observability:LibvirtObservability", name, None, opts)
        conf = f"/etc/logrotate.d/stageline-{site.stack}"
        body = logrotate_conf(site.log_dir, args.spec.log_retention_days)
        self.rotation = HostCommand(
            f"{name}-logrotate",
            site.uri,
            create=f"printf %s {shlex.quote(body)} > {shlex.quote(conf)}",
            delete=f"rm -f {shlex.quote(conf)}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._publish(site.log_dir, alarms=[])
