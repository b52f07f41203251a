"""How runs look on a terminal and in JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ottermq.cli.tables import json_value, labels_text, offset, seconds, short, table, when
from ottermq.store.inspect import RunDetail, RunSummary, TaskView, UnitView

# A fan-out with more items than this shows the first ones; `-o json` has them all.
MAX_ITEMS_SHOWN = 20
TAIL_WIDTH = 80


def runs_table(runs: Sequence[RunSummary]) -> str:
    rows = [
        (r.run_id, r.pipeline, f"v{r.plan_version}", r.state, when(r.created_ms),
         seconds(r.finished_ms - r.created_ms) if r.finished_ms else None, labels_text(r.labels))
        for r in runs
    ]
    return table(("RUN", "PIPELINE", "VERSION", "STATE", "CREATED (UTC)", "TOOK", "LABELS"), rows)


def run_summary_json(r: RunSummary) -> dict[str, Any]:
    return {
        "run_id": r.run_id, "pipeline": r.pipeline, "version": r.plan_version, "state": r.state,
        "created_ms": r.created_ms, "started_ms": r.started_ms, "finished_ms": r.finished_ms,
        "priority": r.priority, "labels": r.labels,
    }


def run_params(detail: RunDetail) -> Any:
    """The params the run was started with (runs store them in an envelope with their creation time)."""
    value = json_value(detail.params)
    if isinstance(value, dict) and "params" in value and "created_at" in value:
        return value["params"]
    return value


def run_detail_text(detail: RunDetail, needs: Mapping[str, Sequence[str]] | None = None) -> str:
    """The run's header and its tasks in DAG order; ``needs`` (from the plan) adds a NEEDS column."""
    s = detail.summary
    state = f"{s.state} (failed at task {detail.failed_task})" if detail.failed_task else str(s.state)
    head = [
        f"run {s.run_id}",
        f"  pipeline  {s.pipeline} v{s.plan_version}",
        f"  state     {state}",
        f"  created   {when(s.created_ms)} UTC",
        f"  started   {offset(s.started_ms, s.created_ms)}",
        f"  finished  {offset(s.finished_ms, s.created_ms)}",
        f"  params    {short(json.dumps(run_params(detail), separators=(',', ':')), TAIL_WIDTH)}",
    ]
    if s.labels:
        head.append(f"  labels    {labels_text(s.labels)}")
    headers = ["TASK", "STATE", "ATTEMPTS", "DONE", *(["NEEDS"] if needs is not None else []), "OUTPUT / ERROR"]
    rows: list[list[object]] = []
    for task in detail.tasks:
        rows += _task_rows(task, s.created_ms, needs)
    return "\n".join(head) + "\n\n" + table(headers, rows)


def _task_rows(task: TaskView, origin: int, needs: Mapping[str, Sequence[str]] | None) -> list[list[object]]:
    need = [", ".join(needs.get(task.name, ()))] if needs is not None else []
    main = next((u for u in task.units if u.item is None), None)
    items = [u for u in task.units if u.item is not None]
    if main is None:
        return [[task.name, task.state, None, None, *need, None]]
    if not items and main.state != "expanded":
        state = task.state if main.state in (task.state, "succeeded", "dead") else f"{task.state}: {main.state}"
        return [[task.name, state, main.attempt, _done(main, origin), *need, _tail(main)]]
    ended = [u.finished_ms for u in items if u.finished_ms]
    done = offset(max(ended), origin) if ended and task.state in ("succeeded", "failed") else None
    counts: dict[str, int] = {}
    for u in items:
        counts[u.state] = counts.get(u.state, 0) + 1
    summary = f"{len(items)} items: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    rows: list[list[object]] = [[task.name, task.state, main.attempt, done, *need, summary]]
    for u in items[:MAX_ITEMS_SHOWN]:
        rows.append([f"  [{u.item}]", u.state, u.attempt, _done(u, origin), *([""] if need else []), _tail(u)])
    if len(items) > MAX_ITEMS_SHOWN:
        rows.append([f"  ... {len(items) - MAX_ITEMS_SHOWN} more items (all of them with -o json)", "", "", "",
                     *([""] if need else []), ""])
    return rows


def _done(unit: UnitView, origin: int) -> str | None:
    if unit.finished_ms:
        return offset(unit.finished_ms, origin)
    if unit.due_ms:
        return f"due {offset(unit.due_ms, origin)}"
    return None


def _tail(unit: UnitView) -> str:
    if unit.error and unit.state == "dead":
        return short(f"{unit.error_kind}: {unit.error}", TAIL_WIDTH)
    if unit.error and unit.state != "succeeded":
        # Waiting for another attempt: the error is the previous attempt's.
        return short(f"last error: {unit.error_kind}: {unit.error}", TAIL_WIDTH)
    return short(unit.output, TAIL_WIDTH)


def run_detail_json(detail: RunDetail, needs: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    return {
        **run_summary_json(detail.summary),
        "params": run_params(detail),
        "failed_task": detail.failed_task,
        "tasks": [
            {
                "name": t.name,
                "state": t.state,
                **({"needs": list(needs.get(t.name, ()))} if needs is not None else {}),
                "units": [
                    {
                        "unit_id": u.unit_id, "item": u.item, "state": u.state, "attempt": u.attempt, "queue": u.queue,
                        "output": json_value(u.output), "error": u.error, "error_kind": u.error_kind,
                        "finished_ms": u.finished_ms, "due_ms": u.due_ms, "history": list(u.history),
                    }
                    for u in t.units
                ],
            }
            for t in detail.tasks
        ],
    }
