"""Promotion gates: what must hold before a release moves into a stage (`stageline promote`).

Each stage declares its gates in its stack file (`stageline:gates`, stageline.model.Gates):
an approval, a soak time read from the upstream's update history, and a check that the
upstream's running release answers its health check. Every promotion's update carries a record
of them (stageline.gates.record), which `stageline history` reads back.
"""
