"""`ottermq run PIPELINE`: start a run (or many, from a JSON-lines file), optionally wait for it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("run", help="start a run of an applied pipeline", description=__doc__)
    parser.add_argument("pipeline", metavar="PIPELINE")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a run parameter (repeatable)")
    parser.add_argument("--params-file", metavar="FILE",
                        help="params as a JSON/YAML object, or a .jsonl file with one object per line (one run each)")
    parser.add_argument("--id", dest="run_id", metavar="ID", help="run id; the same id again returns the existing run")
    parser.add_argument("--priority", type=int, metavar="N", help="priority of the run's tasks in priority queues")
    parser.add_argument("--wait", action="store_true", help="wait for the run to end; exit 0 only if it succeeded")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="with --wait: give up after this long")
    add_output_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.client import Client
    from ottermq.params import parse_param_flags, read_params_file

    with Client(settings=ctx.settings) as client:
        plan, _ = client.plan(args.pipeline)
        flags = parse_param_flags(args.param, plan)
        if args.params_file and Path(args.params_file).suffix == ".jsonl":
            return _bulk(client, args, ctx, flags)
        given: dict[str, Any] = read_params_file(args.params_file) if args.params_file else {}
        given.update(flags)
        created = client.run(args.pipeline, given, run_id=args.run_id, priority=args.priority)
        if args.output == "json" and not args.wait:
            ctx.out.write(json.dumps({"run_id": created.run_id, "created": created.created, "state": created.state}) + "\n")
        elif not args.wait:
            note = "" if created.created else f" (already exists: {created.state})"
            ctx.out.write(f"{created.run_id}{note}\n")
        if not args.wait:
            return 0
        detail = client.wait(created.run_id, timeout=args.timeout)
        return _report(ctx, args, created.run_id, detail)


def _report(ctx: Context, args: argparse.Namespace, run_id: str, detail: Any) -> int:
    from ottermq.cli.runs_text import run_detail_json, run_detail_text

    if args.output == "json":
        ctx.out.write(json.dumps(run_detail_json(detail), indent=2) + "\n")
    else:
        ctx.out.write(run_detail_text(detail))
    return 0 if detail.summary.state == "succeeded" else 1


def _bulk(client: Any, args: argparse.Namespace, ctx: Context, flags: dict[str, Any]) -> int:
    from ottermq.errors import ParamsError

    rows: list[dict[str, Any]] = []
    with open(args.params_file, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ParamsError(f"{args.params_file}:{number}: not a JSON object: {exc.msg}") from None
            if not isinstance(row, dict):
                raise ParamsError(f"{args.params_file}:{number}: each line must be one JSON object of params")
            rows.append({**row, **flags})
    created = []
    chunk = 5000
    for start in range(0, len(rows), chunk):
        created += client.run_many(args.pipeline, rows[start : start + chunk], priority=args.priority)
        if ctx.err.isatty() or sys.stderr is ctx.err:
            ctx.err.write(f"\rstarted {len(created)}/{len(rows)} runs")
    if rows:
        ctx.err.write("\n")
    if args.output == "json":
        ctx.out.write(json.dumps([c.run_id for c in created]) + "\n")
    else:
        ctx.out.write(f"started {sum(1 for c in created if c.created)} runs of {args.pipeline}\n")
    return 0
