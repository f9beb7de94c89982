"""Entry point for `pulumi up -s <stage>`: the same program the operator CLI runs."""

from stageline.program import deploy

deploy()
