"""`ottermq queues`: every queue's backlog and counters; with --watch, throughput measured between readings.

The counters (processed, failed, retried, dead, dropped) count since the queue was
first used. A rate is shown only with --watch, where it is measured: the change of
a counter between two readings divided by the time between them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag

COUNTERS = ("processed", "failed", "retried", "dead_lettered", "dropped")
RATED = ("processed", "failed", "retried", "dead_lettered")
CLEAR = "\x1b[H\x1b[2J"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("queues", help="queue backlogs, counters and (with --watch) throughput",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watch", "-w", action="store_true",
                        help="read the counters every --interval seconds and show the rates measured in between")
    parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                        help="with --watch: time between readings (default 1)")
    parser.add_argument("--count", type=int, metavar="N", help="with --watch: stop after N views (default: until Ctrl-C)")
    add_output_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.connect import connected
    from ottermq.errors import UsageError

    if not args.watch and args.count is not None:
        raise UsageError("--count goes with --watch")
    if args.interval <= 0 or (args.count is not None and args.count < 1):
        raise UsageError("--interval must be positive and --count at least 1")
    with connected(ctx.settings) as h:
        if not args.watch:
            _print(ctx, args, _read(h.inspector), None)
            return 0
        return _watch(ctx, args, h.inspector)


def _read(inspector: Any) -> tuple[float, list[Any]]:
    stats = [inspector.queue_stats(name) for name in inspector.queues()]
    return time.monotonic(), stats


def _watch(ctx: Context, args: argparse.Namespace, inspector: Any) -> int:
    at, previous = _read(inspector)
    shown = 0
    clear = args.output == "text" and ctx.out.isatty()
    while args.count is None or shown < args.count:
        time.sleep(max(0.0, at + args.interval - time.monotonic()))
        now, current = _read(inspector)
        rates = _rates({q.name: q for q in previous}, current, now - at)
        if clear:
            ctx.out.write(CLEAR)
        elif shown and args.output == "text":
            ctx.out.write("\n")
        _print(ctx, args, (now, current), (now - at, rates))
        ctx.out.flush()
        at, previous = now, current
        shown += 1
    return 0


def _rates(before: dict[str, Any], after: Sequence[Any], elapsed_s: float) -> dict[str, dict[str, float]]:
    """Per queue and counter: the change since the previous reading, per second (a queue new since then starts at 0)."""
    out: dict[str, dict[str, float]] = {}
    for q in after:
        old = before.get(q.name)
        out[q.name] = {c: (getattr(q, c) - (getattr(old, c) if old else 0)) / elapsed_s for c in RATED}
    return out


def _print(ctx: Context, args: argparse.Namespace, reading: tuple[float, list[Any]],
           measured: tuple[float, dict[str, dict[str, float]]] | None) -> None:
    from ottermq.cli.tables import table, write_json

    _, stats = reading
    if args.output == "json":
        rows = [_json(q, measured[1][q.name] if measured else None) for q in stats]
        if measured is None:
            write_json(ctx.out, rows)
        else:
            write_json(ctx.out, {"at_ms": int(time.time() * 1000), "interval_s": round(measured[0], 3), "queues": rows},
                       lines=True)
        return
    if not stats:
        ctx.err.write("no queues yet (a queue appears once a pipeline that uses it is applied)\n")
        return
    headers = ["QUEUE", "READY", "DELAYED", "IN FLIGHT", "IN DLQ", "PROCESSED", "FAILED", "RETRIED", "DEAD", "DROPPED"]
    if measured is not None:
        headers += ["PROCESSED/S", "FAILED/S", "RETRIED/S", "DEAD/S"]
    rows = []
    for q in stats:
        row: list[object] = [q.name, q.ready, q.delayed, q.in_flight, q.dead_letters, *(getattr(q, c) for c in COUNTERS)]
        if measured is not None:
            row += [f"{measured[1][q.name][c]:.1f}" for c in RATED]
        rows.append(row)
    if measured is not None:
        ctx.out.write(f"rates over the last {measured[0]:.2f}s (Ctrl-C to stop)\n")
    ctx.out.write(table(headers, rows))
    if measured is None:
        ctx.out.write("counters are totals since each queue was first used; `--watch` measures rates\n")


def _json(q: Any, rates: dict[str, float] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": q.name, "ready": q.ready, "delayed": q.delayed, "in_flight": q.in_flight, "in_dlq": q.dead_letters,
        "processed": q.processed, "failed": q.failed, "retried": q.retried, "dead_lettered": q.dead_lettered,
        "dropped": q.dropped,
    }
    if rates is not None:
        out["per_second"] = {c: round(v, 3) for c, v in rates.items()}
    return out
