"""`ottermq events`: the transitions of runs and tasks, one per line; --follow streams them as they happen.

Without --follow it prints what the event streams hold (from the oldest retained
event, or after --since) and ends; the cursor to resume from goes to stderr.
With --follow it starts at the present (or --since) and streams until Ctrl-C.
Events name their run, not its pipeline: --pipeline looks each run up once, so the
events of runs that have since expired (retention) do not match it.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
from collections.abc import Iterable
from typing import Any

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag

# Short names the scripts record in an event's data, spelled out for people.
DATA_NAMES = {"a": "attempt", "k": "kind", "n": "count", "st": "state", "was": "was"}
# Runs whose pipeline has been looked up; past this many the cache starts again (memory stays bounded).
PIPELINE_CACHE_MAX = 50_000
_STREAM_ID = re.compile(r"[0-9]+(-[0-9]+)?")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("events", help="run and task transitions; --follow streams them", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--follow", "-f", action="store_true", help="keep streaming new events until Ctrl-C")
    parser.add_argument("--pipeline", "-p", metavar="NAME", help="only events of runs of this pipeline")
    parser.add_argument("--run", "-r", dest="run_id", metavar="RUN_ID", help="only events of this run")
    parser.add_argument("--type", "-t", dest="types", action="append", default=[], metavar="TYPE",
                        help="only these event types; patterns allowed (task.*), repeatable or comma-separated")
    parser.add_argument("--since", metavar="CURSOR",
                        help="start after this cursor (printed when a previous `events` ended); `0` for the oldest")
    add_output_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.connect import connected
    from ottermq.store.events import EventReader

    with connected(ctx.settings) as h:
        reader = EventReader(h.store)
        try:
            return _stream(args, ctx, reader, _Printer(args, ctx, h.inspector), h.store.keyspace.shards)
        finally:
            reader.close()


def _stream(args: argparse.Namespace, ctx: Context, reader: Any, printer: _Printer, shards: int) -> int:
    cursor = _start(args, reader, shards)
    try:
        if args.follow:
            while True:
                events, cursor = reader.read(cursor, block_ms=1000)
                printer.print(events)
        end = reader.latest()
        while not _reached(cursor, end):
            previous = cursor
            events, cursor = reader.read(cursor)
            printer.print(events)
            if cursor == previous:
                break
    finally:
        ctx.out.flush()
        ctx.err.write(f"cursor: {cursor} (resume with --since {cursor})\n")
    return 0


def _start(args: argparse.Namespace, reader: Any, shards: int) -> Any:
    from ottermq.errors import UsageError
    from ottermq.store.events import EventCursor

    if args.since is None:
        return reader.latest() if args.follow else EventCursor.beginning(shards)
    if args.since.strip() in ("0", "0-0"):
        return EventCursor.beginning(shards)
    cursor = EventCursor.parse(args.since)
    if not all(_STREAM_ID.fullmatch(p) for p in cursor.positions):
        raise UsageError(f"--since {args.since}: not a cursor (one stream id per shard, such as 1700000000000-0)")
    if len(cursor.positions) != shards:
        raise UsageError(f"--since: the cursor has {len(cursor.positions)} positions, one per shard, but there "
                         f"{'is 1 shard' if shards == 1 else f'are {shards} shards'}")
    return cursor


def _reached(cursor: Any, end: Any) -> bool:
    return all(_id(c) >= _id(e) for c, e in zip(cursor.positions, end.positions, strict=True))


def _id(text: str) -> tuple[int, int]:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class _Printer:
    def __init__(self, args: argparse.Namespace, ctx: Context, inspector: Any) -> None:
        self._args = args
        self._ctx = ctx
        self._inspector = inspector
        self._types = [t.strip() for spec in args.types for t in spec.split(",") if t.strip()]
        self._pipelines: dict[str, str | None] = {}

    def print(self, events: Iterable[Any]) -> None:
        for event in events:
            if not self._wanted(event):
                continue
            if self._args.output == "json":
                self._json(event)
            else:
                self._text(event)
        self._ctx.out.flush()

    def _wanted(self, event: Any) -> bool:
        if self._types and not any(fnmatch.fnmatchcase(event.type, t) for t in self._types):
            return False
        if self._args.run_id is not None and event.run_id != self._args.run_id:
            return False
        if self._args.pipeline is not None:
            return event.run_id is not None and self._pipeline(event.run_id) == self._args.pipeline
        return True

    def _pipeline(self, run_id: str) -> str | None:
        # Events carry the run, not the pipeline: look each run up once.
        if run_id not in self._pipelines:
            if len(self._pipelines) >= PIPELINE_CACHE_MAX:
                self._pipelines.clear()
            self._pipelines[run_id] = self._inspector.pipeline_of(run_id)
        return self._pipelines[run_id]

    def _text(self, event: Any) -> None:
        from ottermq.cli.tables import when

        details = [f"queue={event.queue}"] if event.queue else []
        details += [f"{DATA_NAMES.get(k, k)}={v}" for k, v in event.data.items()]
        fields = [when(event.ts_ms), event.type.ljust(15), (event.run_id or "-").ljust(24), _task(event.unit_id).ljust(14)]
        self._ctx.out.write("  ".join([*fields, " ".join(details)]).rstrip() + "\n")

    def _json(self, event: Any) -> None:
        from ottermq.cli.tables import iso, write_json

        task, item = _unit_parts(event.unit_id)
        write_json(self._ctx.out, {
            "ts_ms": event.ts_ms, "time": iso(event.ts_ms), "type": event.type, "run_id": event.run_id,
            "pipeline": self._pipeline(event.run_id) if event.run_id else None, "unit_id": event.unit_id,
            "task": task, "item": item, "queue": event.queue, "data": {DATA_NAMES.get(k, k): v for k, v in event.data.items()},
        }, lines=True)


def _unit_parts(unit_id: str | None) -> tuple[str | None, int | None]:
    if not unit_id:
        return None, None
    _, task, *item = unit_id.split("|")
    return task, int(item[0]) if item else None


def _task(unit_id: str | None) -> str:
    task, item = _unit_parts(unit_id)
    if task is None:
        return "-"
    return f"{task}[{item}]" if item is not None else task
