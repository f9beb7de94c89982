"""stageline operator: config loading, stage graph, promotion, the one program, and the CLI."""

PROJECT = "stageline"
