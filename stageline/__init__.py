"""stageline operator: config loading, stage graph, promotion, the one program, and the CLI."""

import os

from components.targets import process_environment

# What targets need in every process (see components/targets.py) must be set before grpc is
# first imported, which this package's first import precedes; the engine passes it on to
# provider processes.
for _name, _value in process_environment().items():
    os.environ.setdefault(_name, _value)

PROJECT = "stageline"
