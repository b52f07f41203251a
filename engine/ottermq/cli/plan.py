"""`ottermq plan PATH...`: compile pipelines and show their execution plans (and, given params, root inputs)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag

if TYPE_CHECKING:
    from ottermq.spec.repository import CompiledPipeline


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("plan", help="compile pipelines and print their plans", description=__doc__)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="pipeline files or directories")
    parser.add_argument("--pipeline", "-p", metavar="NAME", help="show only this pipeline")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a run parameter (repeatable)")
    parser.add_argument("--params-file", metavar="FILE", help="run parameters as a JSON or YAML object")
    add_output_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.cli.plan_text import format_plan
    from ottermq.errors import SpecError, UsageError
    from ottermq.params import parse_param_flags, read_params_file, resolve_params
    from ottermq.rendering import render_root_inputs, run_context
    from ottermq.spec.diagnostics import render_json, render_text
    from ottermq.spec.repository import validate_paths
    from ottermq.templating import TemplateEngine

    engine = TemplateEngine()
    result = validate_paths(args.paths, engine=engine)
    if result.diagnostics:
        ctx.out.write(render_json(list(result.diagnostics)) if args.output == "json" else render_text(list(result.diagnostics)))
        raise SpecError(result.diagnostics)
    pipelines = _select(result.pipelines, args.pipeline)
    with_params = bool(args.param or args.params_file)
    if with_params and len(pipelines) != 1:
        names = ", ".join(p.plan.pipeline for p in pipelines)
        raise UsageError(f"params need one pipeline; choose one with --pipeline ({names})")
    inputs: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    if with_params:
        plan = pipelines[0].plan
        given = read_params_file(args.params_file) if args.params_file else {}
        given.update(parse_param_flags(args.param, plan))
        params = resolve_params(plan, given)
        context = run_context(plan, params, run_id="(preview)", version=None, created_at=None)
        inputs = render_root_inputs(engine, plan, context)
    if args.output == "json":
        payload: dict[str, Any] = {"plans": [{"hash": p.plan.hash, "source": p.plan.source, **p.plan.to_dict()} for p in pipelines]}
        if inputs is not None:
            payload["params"] = params
            payload["root_inputs"] = inputs
        ctx.out.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return 0
    for i, compiled in enumerate(pipelines):
        if i:
            ctx.out.write("\n")
        ctx.out.write(format_plan(compiled.plan))
    if inputs is not None:
        ctx.out.write("\nparams:\n")
        ctx.out.write(_indent(json.dumps(params, indent=2, sort_keys=True)))
        ctx.out.write("root task inputs:\n")
        for name, value in inputs.items():
            ctx.out.write(f"  {name}:\n")
            ctx.out.write(_indent(json.dumps(value, indent=2, sort_keys=True), 4))
    return 0


def _select(pipelines: tuple[CompiledPipeline, ...], name: str | None) -> list[CompiledPipeline]:
    if name is None:
        return list(pipelines)
    chosen = [p for p in pipelines if p.plan.pipeline == name]
    if not chosen:
        from ottermq.errors import NotFound
        from ottermq.suggest import did_you_mean

        raise NotFound(f"no pipeline `{name}` in the given files{did_you_mean(name, [p.plan.pipeline for p in pipelines])}")
    return chosen


def _indent(text: str, n: int = 2) -> str:
    pad = " " * n
    return "".join(pad + line + "\n" for line in text.splitlines())
