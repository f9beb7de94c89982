"""`stageline status STAGE`: each machine's state, setup and health, as its target reports it."""

from __future__ import annotations

import dataclasses
import json

import click

from components.health import HealthUnavailable, MachineHealth, StageHealth
from stageline.cli.context import CliContext
from stageline.health import health_reader


def health_words(m: MachineHealth) -> str:
    """What a machine serves, in the words of the app or database itself."""
    if m.app is not None:
        db = m.app.get("database") or {}
        reach = (
            f"database {db.get('role')} reachable"
            if db.get("reachable")
            else f"database unreachable ({db.get('error')})"
            if db.get("configured")
            else "no database"
        )
        return f"HTTP {m.app_status}, release {m.app.get('appVersion')}, {reach}"
    if m.database is not None:
        d = m.database
        lag = "" if d.lag_bytes is None else f", lag {d.lag_bytes} B"
        if d.lag_seconds is not None:
            lag += f" / {d.lag_seconds:.1f} s since last replay"
        return f"{d.role}, {d.replication}{lag}"
    return ""


def render(stage: str, health: StageHealth) -> str:
    verdict = "healthy" if health.healthy else "NOT healthy"
    lines = [f"{stage}: {len(health.machines)} machines, {verdict}"]
    rows = [("MACHINE", "ROLE", "STATE", "SETUP", "HEALTH")]
    for m in health.machines:
        setup = m.setup + (f" ({m.step})" if m.step else "")
        state = ("running" if m.running else "stopped") + (f" [{m.kind}]" if m.kind else "")
        words = health_words(m)
        rows.append((m.name, m.role, state, setup, m.problem or words or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        lines.append("  " + "  ".join([*cells, row[4]]))
    lines += [f"warning: {note}" for note in health.notes]
    for m in health.failed:
        lines.append(f"\n{m.name} failed at step {m.step!r}; the guest's log ends with:")
        lines += [f"    {line}" for line in m.detail.splitlines()]
    return "\n".join(lines)


@click.command()
@click.argument("stage")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def status(obj: CliContext, stage: str, fmt: str) -> None:
    """Show STAGE's machines: running or not, setup done or failed, and health."""
    try:
        read = health_reader(obj.project, stage)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if read is None:
        raise click.ClickException(
            f"stage {stage!r}'s target cannot look inside its machines; "
            f"see `stageline outputs {stage}`"
        )
    try:
        health = read()
    except HealthUnavailable as exc:
        raise click.ClickException(f"{stage}: {exc}") from exc
    if fmt == "json":
        click.echo(
            json.dumps(
                {"stage": stage, "healthy": health.healthy, **dataclasses.asdict(health)},
                indent=2,
            )
        )
    else:
        click.echo(render(stage, health))
    if not health.healthy:
        raise SystemExit(1)
