"""`ottermq dlq`: list, show, requeue or purge dead-lettered tasks."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag

_UNIT_ID = re.compile(r"[^|\s]+\|[^|\s]+(\|[0-9]+)?")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("dlq", help="dead-lettered tasks: list, show, requeue, purge", description=__doc__)
    actions = parser.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="dead-lettered tasks, oldest first")
    listing.add_argument("--queue", "-q", metavar="QUEUE", help="only this queue (default: every queue)")
    listing.add_argument("--limit", "-n", type=int, default=100, metavar="N", help="at most N entries (default 100)")
    show = actions.add_parser("show", help="one dead-lettered task: its error, attempts, full history and input")
    show.add_argument("unit_id", metavar="UNIT_ID")
    requeue = actions.add_parser("requeue", help="put dead-lettered tasks back in their queues, with fresh attempts")
    _targets(requeue)
    requeue.add_argument("--input", metavar="JSON", help="replace the tasks' input with this JSON")
    purge = actions.add_parser("purge", help="delete dead-letter entries for good")
    _targets(purge)
    purge.add_argument("--yes", "-y", action="store_true", help="purge a whole queue without asking")
    for action in (listing, show, requeue, purge):
        add_output_flag(action)
    parser.set_defaults(handler=run)


def _targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("unit_ids", nargs="*", metavar="UNIT_ID", help="dead-lettered task ids (`dlq list` shows them)")
    parser.add_argument("--queue", "-q", metavar="QUEUE", help="with --all: every entry of this queue")
    parser.add_argument("--all", action="store_true", help="with --queue: every entry of the queue")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.connect import connected
    from ottermq.errors import UsageError

    if args.dlq_command in ("requeue", "purge"):
        _check_targets(args)
    for unit_id in [args.unit_id] if args.dlq_command == "show" else getattr(args, "unit_ids", []):
        if not _UNIT_ID.fullmatch(unit_id):
            raise UsageError(f"`{unit_id}` is not a task id: they look like RUN_ID|TASK or RUN_ID|TASK|ITEM "
                             "(`dlq list` shows them)")
    with connected(ctx.settings) as h:
        if getattr(args, "queue", None):
            _check_queue(h.inspector, args.queue)
        if args.dlq_command == "list":
            return _list(h.inspector, args, ctx)
        if args.dlq_command == "show":
            return _show(h.inspector, args, ctx)
        if args.dlq_command == "requeue":
            return _requeue(h.store, h.inspector, args, ctx)
        return _purge(h.store, h.inspector, args, ctx)


def _check_targets(args: argparse.Namespace) -> None:
    from ottermq.errors import UsageError

    whole = args.queue is not None or args.all
    if args.unit_ids and whole:
        raise UsageError(f"dlq {args.dlq_command}: give UNIT_IDs or --queue Q --all, not both")
    if not args.unit_ids and not whole:
        raise UsageError(f"dlq {args.dlq_command}: give UNIT_IDs, or --queue Q --all for a whole queue")
    if whole and not (args.queue and args.all):
        raise UsageError(f"dlq {args.dlq_command}: a whole queue needs both --queue Q and --all")


def _check_queue(inspector: Any, queue: str) -> None:
    from ottermq.errors import NotFound
    from ottermq.suggest import did_you_mean

    known = inspector.queues()
    if queue not in known:
        raise NotFound(f"there is no queue `{queue}`{did_you_mean(queue, known)}")


def _dead_json(d: Any) -> dict[str, Any]:
    from ottermq.cli.tables import iso, json_value

    return {
        "unit_id": d.unit_id, "run_id": d.run_id, "task": d.task, "item": d.item, "queue": d.queue,
        "error": d.error, "error_kind": d.error_kind, "attempts": d.attempts, "died_ms": d.died_ms,
        "died_at": iso(d.died_ms), "input": json_value(d.input), "history": list(d.history),
    }


def _list(inspector: Any, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.tables import short, table, when, write_json
    from ottermq.errors import UsageError

    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    queues = [args.queue] if args.queue else inspector.queues()
    dead = sorted((d for q in queues for d in inspector.dead_letters(q, limit=args.limit)), key=lambda d: d.died_ms)
    dead = dead[: args.limit]
    if args.output == "json":
        write_json(ctx.out, [_dead_json(d) for d in dead])
        return 0
    if not dead:
        ctx.err.write(f"no dead-lettered tasks{f' in queue {args.queue}' if args.queue else ''}\n")
        return 0
    rows = [(d.unit_id, d.queue, when(d.died_ms), d.attempts, short(f"{d.error_kind}: {d.error}", 80)) for d in dead]
    ctx.out.write(table(("UNIT", "QUEUE", "DIED (UTC)", "ATTEMPTS", "ERROR"), rows))
    return 0


def _show(inspector: Any, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.tables import json_value, when, write_json

    d = inspector.dead_letter(args.unit_id)
    if args.output == "json":
        write_json(ctx.out, _dead_json(d))
        return 0
    task = f"{d.task}[{d.item}]" if d.item is not None else d.task
    lines = [
        f"unit      {d.unit_id}",
        f"run       {d.run_id}",
        f"task      {task}",
        f"queue     {d.queue}",
        f"died      {when(d.died_ms)} UTC, after {d.attempts} attempt{'s' if d.attempts != 1 else ''}",
        f"error     {d.error_kind}: {d.error}",
        "history",
    ]
    for entry in d.history:
        lines.append(f"  attempt {entry.get('attempt')}  {when(entry.get('at'))}  {entry.get('kind')}: {entry.get('error')}")
    value = json_value(d.input)
    text = json.dumps(value, indent=2) if d.input is not None else (
        "(not stored: each attempt renders it from the task's input template, the run's params and the outputs "
        "of the tasks it needs; `dlq requeue --input JSON` sets one)"
    )
    lines.append("input")
    lines += [f"  {line}" for line in text.splitlines()]
    ctx.out.write("\n".join(lines) + "\n")
    return 0


def _requeue(store: Any, inspector: Any, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.tables import write_json
    from ottermq.errors import UserError

    new_input = None
    if args.input is not None:
        try:
            new_input = json.dumps(json.loads(args.input), separators=(",", ":"))
        except json.JSONDecodeError as exc:
            raise UserError(f"--input is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if args.all:
        count = store.dlq_requeue_all(args.queue, new_input)
        left = len(store.dead_unit_ids(args.queue))
        if args.output == "json":
            write_json(ctx.out, {"queue": args.queue, "requeued": count, "left": left})
        else:
            ctx.out.write(f"requeued {count} task{'s' if count != 1 else ''} from the dead-letter queue of {args.queue}\n")
            if left:
                ctx.err.write(f"{left} entr{'ies' if left != 1 else 'y'} could not be requeued (their runs were cancelled "
                              f"or have expired); `ottermq dlq purge --queue {args.queue} --all` removes them\n")
        return 0 if not left else 1
    problems = {uid: "not in a dead-letter queue" for uid in args.unit_ids if not _in_dlq(inspector, uid)}
    wanted = [uid for uid in dict.fromkeys(args.unit_ids) if uid not in problems]
    statuses = store.dlq_requeue(wanted, new_input) if wanted else []
    done = []
    for uid, status in zip(wanted, statuses, strict=True):
        if status == "requeued":
            done.append(uid)
        else:
            problems[uid] = {"cancelled": "its run was cancelled", "not_found": "its run has expired"}.get(status, str(status))
    if args.output == "json":
        write_json(ctx.out, {"requeued": done, "not_requeued": [{"unit_id": u, "reason": r} for u, r in problems.items()]})
    else:
        for uid in done:
            ctx.out.write(f"requeued {uid}\n")
        for uid, reason in problems.items():
            ctx.err.write(f"cannot requeue {uid}: {reason}\n")
    return 0 if not problems else 1


def _in_dlq(inspector: Any, unit_id: str) -> bool:
    from ottermq.errors import NotFound

    try:
        inspector.dead_letter(unit_id)
    except NotFound:
        return False
    return True


def _purge(store: Any, inspector: Any, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.tables import write_json

    if args.all:
        count = inspector.queue_stats(args.queue).dead_letters
        if count == 0:
            ctx.err.write(f"the dead-letter queue of {args.queue} is empty: nothing to purge\n")
            return 0
        if not args.yes and not _confirm(ctx, count, args.queue):
            ctx.err.write("nothing was purged\n")
            return 1
        removed = store.dlq_purge_all(args.queue)
        if args.output == "json":
            write_json(ctx.out, {"queue": args.queue, "purged": removed})
        else:
            ctx.out.write(f"purged {removed} dead-lettered task{'s' if removed != 1 else ''} of {args.queue}\n")
        return 0
    ids = list(dict.fromkeys(args.unit_ids))
    removed = store.dlq_purge(ids)
    if args.output == "json":
        write_json(ctx.out, {"purged": removed, "not_found": len(ids) - removed})
    else:
        ctx.out.write(f"purged {removed} dead-lettered task{'s' if removed != 1 else ''}\n")
        if removed < len(ids):
            ctx.err.write(f"{len(ids) - removed} of the ids were not in a dead-letter queue\n")
    return 0 if removed == len(ids) else 1


def _confirm(ctx: Context, count: int, queue: str) -> bool:
    from ottermq.errors import UserError

    what = f"{count} dead-lettered task{'s' if count != 1 else ''} of queue {queue}"
    if not sys.stdin.isatty():
        raise UserError(f"not purging the {what}: refusing to purge a whole queue without confirmation, and there is "
                        "no terminal to ask on; pass --yes to confirm")
    ctx.err.write(f"purge all {what} for good? [y/N] ")
    ctx.err.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
