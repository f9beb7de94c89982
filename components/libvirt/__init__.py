"""On-prem target: the five concerns on KVM hosts reached through libvirt (locally or over SSH).

The pulumi-libvirt and pulumi-command providers cannot be built on these machines (the module
proxy serves neither), so the resources here are Pulumi dynamic providers on libvirt-python and
paramiko: real resources with create/read/update/delete, state and refresh, run by the engine's
Python provider host.
"""
