"""`dr status`: what the config records and what the running systems say, side by side.

Every reading is taken separately: a side that cannot be asked (its host down, the target
without that operation) shows the error in its row instead of hiding the others.
"""

from __future__ import annotations

from typing import Any

from components.dr_ops import DrOperations, OperationFailed, OperationUnavailable, StackView
from stageline.dr.seams import DrSeams
from stageline.dr.stage import load_dr_stage, sides
from stageline.workspace import Project

ASK_ERRORS = (OperationFailed, OperationUnavailable)


def _ingress(ops: DrOperations, view: StackView) -> dict[str, Any]:
    try:
        health = ops.ingress_health(view)
    except ASK_ERRORS as exc:
        return {"stack": view.stack, "healthy": False, "detail": f"cannot ask: {exc}"}
    return {
        "stack": view.stack,
        "healthy": health.healthy,
        "detail": health.detail,
        "appVersion": health.app_version,
        "databaseRole": health.database_role,
    }


def gather_status(project: Project, seams: DrSeams, stage: str) -> dict[str, Any]:
    """The status as plain data: the JSON output and the table are both drawn from it."""
    dr = load_dr_stage(project, stage)
    ops = seams.operations(dr.config.target)
    both = sides(project, seams.engine, dr)
    rpo = dr.dr.rpo_seconds
    replication: dict[str, Any]
    actual: str = "unknown"
    try:
        state = ops.replication(both)
    except ASK_ERRORS as exc:
        replication = {
            "streaming": False,
            "lagSeconds": None,
            "withinRpo": None,
            "newestObjectAgeSeconds": None,
            "detail": f"cannot ask: {exc}",
        }
    else:
        actual = state.role
        lag = state.lag_seconds
        replication = {
            "streaming": state.streaming,
            "lagSeconds": lag,
            "withinRpo": None if lag is None else lag <= rpo,
            "newestObjectAgeSeconds": state.newest_object_age_seconds,
            "detail": state.detail,
        }
    return {
        "stage": dr.name,
        "primary": dr.primary,
        "mode": dr.dr.mode,
        "role": {"recorded": dr.dr.role, "actual": actual},
        "rpoSeconds": rpo,
        "rtoSeconds": dr.dr.rto_seconds,
        "dnsZone": dr.dr.dns_zone,
        "replication": replication,
        "ingress": {"primary": _ingress(ops, both.primary), "replica": _ingress(ops, both.replica)},
    }


def _seconds(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1f} s"


def render_table(status: dict[str, Any]) -> str:
    role, rep = status["role"], status["replication"]
    within = {True: "within ", False: "PAST ", None: ""}[rep["withinRpo"]]
    role_line = role["recorded"] + (
        "" if role["actual"] == role["recorded"] else f" (its database says {role['actual']})"
    )
    rows = [
        ("mode", status["mode"]),
        ("role", role_line),
        ("replication", "streaming" if rep["streaming"] else "NOT streaming"),
        (
            "lag (RPO now)",
            f"{_seconds(rep['lagSeconds'])} ({within}rpoSeconds {status['rpoSeconds']})",
        ),
        ("newest object", _seconds(rep["newestObjectAgeSeconds"]) + " old"),
        ("routing", f"app.{status['dnsZone']}" if status["dnsZone"] else "none (no dnsZone)"),
    ]
    if rep["detail"]:
        rows.append(("detail", rep["detail"]))
    for side in ("primary", "replica"):
        ingress = status["ingress"][side]
        verdict = "healthy" if ingress["healthy"] else "NOT healthy"
        rows.append((f"ingress {ingress['stack']}", f"{verdict}: {ingress['detail']}"))
    width = max(len(name) for name, _ in rows)
    lines = [f"{status['stage']} (DR of {status['primary']})"]
    lines += [f"  {name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(lines)
