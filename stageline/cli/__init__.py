"""The operator CLI: one command per module, all on the one program in stageline.program."""
