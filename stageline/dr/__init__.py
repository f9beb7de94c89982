"""Disaster recovery, operated: `stageline dr up | status | failover | failback | drill | gc |
down`.

Target-agnostic: the DR stage's target names its runtime operations (`Target.ops`,
components/dr_ops.py), and every deploy or destroy goes through the same engine code paths as
`stageline up` and `stageline destroy` (`stageline.dr.engine`). The orchestration here speaks
to both through `stageline.dr.seams`, so it is tested without a cloud or the engine.
"""
