"""`ottermq apply PATH...`: validate, compile and store pipelines; say what was created, changed or left alone."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("apply", help="store pipelines (validated, compiled, versioned) in Redis", description=__doc__)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="pipeline files or directories")
    parser.add_argument("--dry-run", action="store_true", help="show what would change (tasks, queues, handlers, schedules); write nothing")
    parser.add_argument("--prune", action="store_true", help="remove applied pipelines that are not in PATH")
    add_output_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.client import Client
    from ottermq.errors import SpecError
    from ottermq.spec.diagnostics import render_text

    try:
        with Client(settings=ctx.settings) as client:
            lines = client.apply(*args.paths, dry_run=args.dry_run, prune=args.prune)
    except SpecError as exc:
        ctx.out.write(render_text(list(exc.diagnostics)))
        ctx.out.write("nothing was applied\n")
        raise
    if args.output == "json":
        ctx.out.write(json.dumps([asdict(line) for line in lines], indent=2) + "\n")
    else:
        for line in lines:
            ctx.out.write(f"{line}\n")
    return 0
