"""The printed table and the JSON document of a run."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TextIO

from peers.driver import Case, Outcome, Plan, Status

__all__ = ["COLUMNS", "print_table", "to_json"]

# (header, workload, processes, metric, number format)
COLUMNS: tuple[tuple[str, str, int, str, str], ...] = (
    ("drain 1p tasks/s", "drain", 1, "rate", "{:,.0f}"),
    ("drain 2p tasks/s", "drain", 2, "rate", "{:,.0f}"),
    ("p50 ms", "latency", 1, "p50_ms", "{:.2f}"),
    ("p99 ms", "latency", 1, "p99_ms", "{:.2f}"),
    ("chains/s 2p", "chains", 2, "rate", "{:,.0f}"),
    ("bulk tasks/s", "bulk", 0, "rate", "{:,.0f}"),
)
# The same cases measured from the first completion, i.e. without worker start-up.
STEADY_COLUMNS: tuple[tuple[str, str, int, str, str], ...] = (
    ("drain 1p steady", "drain", 1, "steady_rate", "{:,.0f}"),
    ("drain 2p steady", "drain", 2, "steady_rate", "{:,.0f}"),
    ("drain 1p startup s", "drain", 1, "startup_s", "{:.2f}"),
    ("drain 2p startup s", "drain", 2, "startup_s", "{:.2f}"),
)

# Redis commands per unit of work: a cost that the machine's load does not move.
COMMAND_COLUMNS: tuple[tuple[str, str, int, str, str], ...] = (
    ("drain 1p cmd/task", "drain", 1, "commands_per_task", "{:.1f}"),
    ("drain 2p cmd/task", "drain", 2, "commands_per_task", "{:.1f}"),
    ("latency cmd/trip", "latency", 1, "commands_per_roundtrip", "{:.1f}"),
    ("chains cmd/chain", "chains", 2, "commands_per_chain", "{:.1f}"),
    ("bulk cmd/task", "bulk", 0, "commands_per_task", "{:.2f}"),
)


def _cell(outcomes: dict[tuple[str, Case], Outcome], peer: str, workload: str, processes: int, metric: str, fmt: str) -> str:
    outcome = outcomes.get((peer, Case(workload, processes)))
    if outcome is None:
        return "-"
    if outcome.status is Status.FAILED:
        return "FAILED"
    return fmt.format(outcome.metrics[metric].median)


def _table(outcomes: Sequence[Outcome], peers: Sequence[str], columns: Sequence[tuple[str, str, int, str, str]]) -> list[str]:
    index = {(o.peer, o.case): o for o in outcomes}
    present = [c for c in columns if any(o.case == Case(c[1], c[2]) for o in outcomes)]
    if not present:
        return []
    rows = [["peer", *(c[0] for c in present)]]
    rows += [[peer, *(_cell(index, peer, *c[1:]) for c in present)] for peer in peers]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    return [lines[0], "-" * len(lines[0]), *lines[1:]]


def print_table(outcomes: Sequence[Outcome], plan: Plan, out: TextIO) -> None:
    """Medians per peer and case, then the steady-state view, then every failure with its reason."""
    reps = plan.repetitions
    out.write(f"\nmedian of {reps} repetition{'s' if reps != 1 else ''}; rates from worker start\n")
    for line in _table(outcomes, plan.peers, COLUMNS):
        out.write(line + "\n")
    steady = _table(outcomes, plan.peers, STEADY_COLUMNS)
    if steady:
        out.write("\ndrain measured from the first completion (without worker start-up), and that start-up time\n")
        for line in steady:
            out.write(line + "\n")
    costs = _table(outcomes, plan.peers, COMMAND_COLUMNS)
    if costs:
        out.write("\nRedis commands per unit of work (the driver's own polling excluded, the tasks' one signal included)\n")
        for line in costs:
            out.write(line + "\n")
    failures = [o for o in outcomes if o.status is Status.FAILED]
    for outcome in failures:
        out.write(f"\nFAILED {outcome.peer} {outcome.case.label}:\n{outcome.error}\n")


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "peer": outcome.peer,
        "workload": outcome.case.workload,
        "processes": outcome.case.processes,
        "status": str(outcome.status),
        "error": outcome.error or None,
        "metrics": {name: stat.as_json() for name, stat in outcome.metrics.items()},
        "seconds": round(outcome.seconds, 3),
        "loadavg_before": list(outcome.load_before),
        "loadavg_after": list(outcome.load_after),
    }


def to_json(outcomes: Sequence[Outcome], plan: Plan, meta: dict[str, Any]) -> dict[str, Any]:
    configs: dict[str, Any] = {}
    for outcome in outcomes:
        if outcome.config is not None:
            configs[outcome.peer] = dataclasses.asdict(outcome.config)
    return {
        "meta": meta,
        "plan": {
            "peers": list(plan.peers),
            "workloads": list(plan.workloads),
            "repetitions": plan.repetitions,
            "sizes": dataclasses.asdict(plan.sizes),
        },
        "peers": configs,
        "results": [_outcome_json(o) for o in outcomes],
    }
