"""Account names every target uses. Plain constants, no imports: libvirt's dynamic providers
load this in their own process, which must not pay for the config model."""

LOGIN_USER = "stageline"
"""The operating-system account on a target's VMs where the target must name one (an Azure
scale set, a libvirt guest operators reach over SSH)."""
