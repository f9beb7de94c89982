"""stageline's policy pack: generic rules (rules.py) over a resource's type and inputs, with each
target's knowledge in components/<target>/policy.py. `__main__.py` serves them to the engine
(`pulumi preview --policy-pack policy`); stageline/policy_gate.py runs them over offline plans."""
