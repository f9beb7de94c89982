"""Dynamic providers for libvirt objects and host commands (see components/libvirt/__init__)."""
