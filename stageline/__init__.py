"""stageline operator: config loading, stage graph, promotion, the one program, and the CLI."""

import os

# libvirt reaches SSH hosts by forking `ssh`. gRPC's fork handlers (on by default) then write
# to the child's stderr, which libvirt reads as the connection's first bytes and drops it. This
# must be set before grpc is first imported; the engine passes it on to provider processes.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

PROJECT = "stageline"
