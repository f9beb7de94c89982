"""The policy pack served to the engine: `pulumi preview --policy-pack policy` (see README).

Each policy of policy/rules.py becomes a resource validation policy with the same name and
level. The stage (tier, region, a DR stage's primary region) comes from the policy config,
`--policy-pack-config FILE` with what `policy.engine.pack_config(context)` writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The engine runs this file with the pack's folder first on sys.path; the rules and the
# targets' facts are importable from the project above it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.engine import serve

if __name__ == "__main__":
    serve()
