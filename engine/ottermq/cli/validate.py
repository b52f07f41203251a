"""`ottermq validate PATH...`: check pipeline files and report every mistake, located."""

from __future__ import annotations

import argparse

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("validate", help="check pipeline files", description=__doc__)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="pipeline files or directories")
    add_output_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.errors import SpecError
    from ottermq.spec.diagnostics import render_json, render_text
    from ottermq.spec.repository import validate_paths

    result = validate_paths(args.paths)
    if args.output == "json":
        ctx.out.write(render_json(list(result.diagnostics), pipelines=[p.plan.pipeline for p in result.pipelines]))
    elif result.diagnostics:
        ctx.out.write(render_text(list(result.diagnostics)))
    else:
        n = len(result.pipelines)
        ctx.out.write(f"{n} pipeline{'s' if n != 1 else ''} valid: {', '.join(p.plan.pipeline for p in result.pipelines)}\n")
    if result.diagnostics:
        raise SpecError(result.diagnostics)
    return 0
