"""`ottermq pipelines`: the applied pipelines; `pipelines history NAME`: every version of one of them."""

from __future__ import annotations

import argparse
from typing import Any

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("pipelines", help="applied pipelines and their version history", description=__doc__)
    add_output_flag(parser)
    actions = parser.add_subparsers(dest="pipelines_command", metavar="ACTION")
    history = actions.add_parser("history", help="every version of a pipeline: hash, when, cause, notes, source")
    history.add_argument("name", metavar="NAME")
    add_output_flag(history, nested=True)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.connect import connected

    with connected(ctx.settings) as h:
        if args.pipelines_command == "history":
            return _history(h.catalog, args, ctx)
        return _list(h.catalog, args, ctx)


def _list(catalog: Any, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.tables import table, when, write_json
    rows = []
    for name, version in catalog.pipelines().items():
        plan_hash = catalog.plan_hash(name, version)
        plan = catalog.plan(plan_hash)
        entry = next((h for h in reversed(catalog.history(name)) if h.version == version and not h.removed), None)
        source = (entry.source if entry else None) or catalog.plan_source(plan_hash)
        rows.append({
            "name": name, "version": version, "hash": plan_hash, "applied_at_ms": entry.applied_at_ms if entry else None,
            "tasks": len(plan.tasks), "source": source, "description": plan.description,
        })
    if args.output == "json":
        write_json(ctx.out, rows)
    elif rows:
        ctx.out.write(table(("PIPELINE", "VERSION", "APPLIED (UTC)", "TASKS", "SOURCE"),
                            [(r["name"], f"v{r['version']}", when(r["applied_at_ms"]), r["tasks"], r["source"]) for r in rows]))
    else:
        ctx.err.write("no pipelines applied yet (`ottermq apply PATH` applies them)\n")
    return 0


def _history(catalog: Any, args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.tables import short, table, when, write_json
    from ottermq.errors import NotFound
    from ottermq.suggest import did_you_mean

    entries = catalog.history(args.name)
    if not entries:
        raise NotFound(f"pipeline `{args.name}` has never been applied{did_you_mean(args.name, catalog.pipelines())}")
    latest = catalog.latest_version(args.name)
    if args.output == "json":
        write_json(ctx.out, {
            "pipeline": args.name, "latest": latest,
            "history": [
                {"version": h.version, "hash": h.hash, "applied_at_ms": h.applied_at_ms, "cause": h.cause,
                 "source": h.source, "notes": h.notes, "removed": h.removed}
                for h in entries
            ],
        })
        return 0
    rows = []
    for h in entries:
        if h.removed:
            rows.append((f"v{h.version}", None, None, "removed from the catalog (apply --prune)", None, None))
            continue
        digest = h.hash.split(":", 1)[-1][:12] if h.hash else None
        mark = " *" if h.version == latest else ""
        rows.append((f"v{h.version}{mark}", digest, when(h.applied_at_ms), h.cause, h.source, short(h.notes, 60)))
    ctx.out.write(table(("VERSION", "HASH", "APPLIED (UTC)", "CAUSE", "SOURCE", "NOTES"), rows))
    ctx.out.write("* the latest version (new runs use it)\n" if latest else f"{args.name} is not applied now\n")
    return 0
