"""`ottermq rollback NAME --to VERSION`: apply an earlier version's plan again, as a new version."""

from __future__ import annotations

import argparse
import re

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag


def _version(text: str) -> int:
    match = re.fullmatch(r"v?([1-9][0-9]*)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"`{text}` is not a version (use a number such as 3, or v3)")
    return int(match.group(1))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "rollback", help="make an earlier version's plan the latest again (it becomes a new version)", description=__doc__
    )
    parser.add_argument("name", metavar="NAME", help="the pipeline")
    parser.add_argument("--to", dest="version", type=_version, required=True, metavar="VERSION",
                        help="the version whose plan to restore (`pipelines history NAME` lists them)")
    add_output_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dataclasses import asdict

    from ottermq.apply import rollback
    from ottermq.cli.connect import connected
    from ottermq.cli.tables import write_json
    from ottermq.clock import SystemClock

    with connected(ctx.settings) as h:
        line = rollback(args.name, args.version, catalog=h.catalog, store=h.store, clock=SystemClock())
    if args.output == "json":
        write_json(ctx.out, {**asdict(line), "rolled_back_to": args.version})
    elif line.status == "unchanged":
        ctx.out.write(f"pipeline {args.name} v{line.new_version} already has the plan of v{args.version}: nothing changed\n")
    elif line.status == "created":
        # The pipeline had been pruned with this very plan as its latest version: it is back.
        ctx.out.write(f"pipeline {args.name} restored at v{line.new_version} (the plan of v{args.version})\n")
    else:
        ctx.out.write(f"pipeline {args.name} rolled back to the plan of v{args.version}: "
                      f"now v{line.new_version} (was v{line.old_version})\n")
        ctx.out.write("".join(f"  {change}\n" for change in line.changes))
    return 0
