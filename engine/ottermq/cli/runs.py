"""`ottermq runs`: list runs; `runs show|cancel|retry RUN_ID` to see one task by task, cancel it, or retry what failed."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag

if TYPE_CHECKING:
    from ottermq.cli.connect import Handles
    from ottermq.plan import ExecutionPlan
    from ottermq.store.inspect import RunDetail, UnitView

# The values of ottermq.store.types.RunState, spelled out: importing the store here would
# slow down `ottermq --help` (a test checks that the two agree).
RUN_STATES = ("pending", "running", "succeeded", "failed", "cancelled")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("runs", help="list runs; show, cancel or retry one", description=__doc__)
    parser.add_argument("--pipeline", "-p", metavar="NAME", help="only runs of this pipeline")
    parser.add_argument("--state", "-s", choices=RUN_STATES, help="only runs in this state")
    parser.add_argument("--limit", "-n", type=int, default=50, metavar="N", help="at most N runs, newest first (default 50)")
    add_output_flag(parser)
    actions = parser.add_subparsers(dest="runs_command", metavar="ACTION")
    show = actions.add_parser("show", help="a run's tasks in DAG order: state, attempts, timings, output or error")
    cancel = actions.add_parser("cancel", help="cancel a run: waiting tasks leave their queues, running ones lose their leases")
    retry = actions.add_parser(
        "retry", help="re-run a run's failed tasks (requeued from their dead-letter queues) and the tasks they skipped"
    )
    for action in (show, cancel, retry):
        action.add_argument("run_id", metavar="RUN_ID")
        add_output_flag(action, nested=True)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.connect import connected

    with connected(ctx.settings) as h:
        if args.runs_command == "show":
            return _show(h, args, ctx)
        if args.runs_command == "cancel":
            return _cancel(h, args, ctx)
        if args.runs_command == "retry":
            return _retry(h, args, ctx)
        return _list(h, args, ctx)


def _list(h: Handles, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.runs_text import run_summary_json, runs_table
    from ottermq.cli.tables import write_json
    from ottermq.errors import UsageError

    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    runs = h.inspector.recent_runs(pipeline=args.pipeline, state=args.state, limit=args.limit)
    if args.output == "json":
        write_json(ctx.out, [run_summary_json(r) for r in runs])
    elif runs:
        ctx.out.write(runs_table(runs))
    else:
        ctx.err.write("no runs found\n")
    return 0


def _show(h: Handles, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.runs_text import run_detail_json, run_detail_text
    from ottermq.cli.tables import write_json

    detail = h.inspector.run(args.run_id)
    plan = _plan(h, detail)
    needs = {t.name: tuple(t.needs) for t in plan.tasks} if plan is not None else None
    if args.output == "json":
        write_json(ctx.out, run_detail_json(detail, needs))
    else:
        ctx.out.write(run_detail_text(detail, needs))
    return 0


def _plan(h: Handles, detail: RunDetail) -> ExecutionPlan | None:
    """The plan version the run pinned (None if the catalog no longer has it)."""
    from ottermq.errors import NotFound

    try:
        return h.plan(detail.summary.pipeline, detail.summary.plan_version)
    except NotFound:
        return None


def _cancel(h: Handles, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.tables import write_json

    state = h.store.cancel_run(args.run_id)
    cancelled = state == "cancelled"
    if args.output == "json":
        write_json(ctx.out, {"run_id": args.run_id, "state": state, "cancelled": cancelled})
    elif cancelled:
        ctx.out.write(f"run {args.run_id} cancelled\n")
    else:
        ctx.err.write(f"run {args.run_id} had already finished ({state}): nothing to cancel\n")
    return 0 if cancelled else 1


def _retry(h: Handles, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.tables import write_json
    from ottermq.errors import UserError

    before = h.inspector.run(args.run_id)
    if before.summary.state == "cancelled":
        raise UserError(f"run {args.run_id} was cancelled: a cancelled run cannot be retried")
    dead = [u for t in before.tasks for u in t.units if u.state == "dead"]
    if not dead:
        raise UserError(f"run {args.run_id} ({before.summary.state}) has no failed tasks: nothing to retry")
    stuck = _not_in_dlq(h, before, dead)
    retriable = [u.unit_id for u in dead if u.unit_id not in stuck]
    statuses = h.store.dlq_requeue(retriable) if retriable else []
    requeued = [uid for uid, status in zip(retriable, statuses, strict=True) if status == "requeued"]
    for uid, status in zip(retriable, statuses, strict=True):
        if status != "requeued":
            stuck[uid] = f"the store refused to requeue it ({status})"
    after = h.inspector.run(args.run_id) if requeued else before
    was = {t.name: t.state for t in before.tasks}
    unskipped = [t.name for t in after.tasks if was.get(t.name) == "skipped" and t.state != "skipped"]
    if args.output == "json":
        write_json(ctx.out, {
            "run_id": args.run_id, "state": after.summary.state, "requeued": requeued, "unskipped": unskipped,
            "not_retried": [{"unit_id": uid, "reason": why} for uid, why in stuck.items()],
        })
    else:
        if requeued:
            ctx.out.write(f"run {args.run_id}: requeued {', '.join(_label(u) for u in requeued)} (attempts start again)")
            ctx.out.write(f"; {', '.join(unskipped)} no longer skipped" if unskipped else "")
            ctx.out.write(f"; the run is {after.summary.state}\n")
        for uid, why in stuck.items():
            ctx.err.write(f"cannot retry {_label(uid)} ({uid}): {why}\n")
        if not requeued:
            ctx.err.write(f"nothing was retried; run {args.run_id} is still {after.summary.state}\n")
    return 0 if not stuck else 1


def _not_in_dlq(h: Handles, detail: RunDetail, dead: list[UnitView]) -> dict[str, str]:
    """Dead units with no dead-letter entry to requeue, and why: the queue keeps none, or it was purged."""
    from ottermq.errors import NotFound

    plan = _plan(h, detail)
    out: dict[str, str] = {}
    for unit in dead:
        try:
            h.inspector.dead_letter(unit.unit_id)
        except NotFound:
            if plan is not None and not plan.queue(unit.queue).dead_letter:
                out[unit.unit_id] = (f"queue `{unit.queue}` keeps no dead letters (dead_letter: false), so its failed "
                                     "tasks cannot be retried")
            else:
                out[unit.unit_id] = "it is not in a dead-letter queue any more (purged, or expired)"
    return out


def _label(unit_id: str) -> str:
    """`task` or `task[item]` from a unit id `run|task|item`."""
    _, task, *item = unit_id.split("|")
    return f"{task}[{item[0]}]" if item else task
