"""`ottermq handler test MODULE`: run a WASM handler once, under the same limits a worker uses."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ottermq.cli.context import Context
from ottermq.errors import UsageError
from ottermq.units import parse_duration_ms, parse_size_bytes

if TYPE_CHECKING:
    from ottermq.wasm import CallResult, DirGrant, LoadedHandler, SandboxSpec

__all__ = ["register", "run", "parse_dir_grant"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("handler", help="work with WASM handler modules")
    commands = parser.add_subparsers(dest="handler_command", metavar="SUBCOMMAND", parser_class=type(parser))
    test = commands.add_parser(
        "test",
        help="run a handler once and show its output, logs, shape, time and fuel",
        description="Run a WASM handler once, with the same sandbox and limits a worker applies.",
    )
    test.add_argument("module", type=Path, help="the handler's .wasm (or .wat) file")
    source = test.add_mutually_exclusive_group()
    source.add_argument("--input", metavar="JSON", help="the input, as JSON text (default: {})")
    source.add_argument("--input-file", metavar="FILE", help="read the input from FILE (- for stdin)")
    test.add_argument("--abi", choices=("auto", "command", "core", "component"), default="auto")
    test.add_argument("--memory", type=_size, metavar="SIZE", help="memory limit (default 64Mi)")
    test.add_argument("--timeout", type=_duration, metavar="DURATION", help="time limit (default 30s)")
    test.add_argument("--fuel", type=_positive_int, metavar="N", help="instruction budget (default: none)")
    test.add_argument("--max-output", dest="max_output", type=_size, metavar="SIZE", help="output limit (default 1Mi)")
    test.add_argument("--env", action="append", default=[], metavar="NAME", help="grant a host environment variable")
    test.add_argument(
        "--dir",
        action="append",
        default=[],
        type=parse_dir_grant,
        metavar="HOST:GUEST[:ro|rw]",
        help="grant a host directory at GUEST inside the sandbox (read-only unless :rw)",
    )
    test.add_argument("--output", choices=("text", "json"), default="text", help="report format")
    test.set_defaults(handler=run)
    parser.set_defaults(handler=_missing_subcommand)


def run(args: argparse.Namespace, ctx: Context) -> int:
    input_json = _read_input(args)
    spec = _spec(args)
    from ottermq.wasm import WasmRuntime

    with WasmRuntime(ctx.settings.module_cache_dir) as runtime:
        handler = runtime.load(args.module, spec)
        result = handler.call(input_json)
    if args.output == "json":
        _print_json(ctx, handler, result)
    else:
        _print_text(ctx, handler, result)
    return 0 if result.ok else 1


def parse_dir_grant(text: str) -> DirGrant:
    """HOST:GUEST[:ro|rw], split from the right so a host path may contain ':'."""
    from ottermq.wasm import DirGrant

    read_only = True
    rest = text
    head, sep, mode = text.rpartition(":")
    if sep and mode in ("ro", "rw"):
        rest, read_only = head, mode == "ro"
    host, sep, guest = rest.rpartition(":")
    if not sep or not host or not guest.startswith("/"):
        raise argparse.ArgumentTypeError(f"expected HOST:GUEST[:ro|rw] with an absolute GUEST path, got {text!r}")
    return DirGrant(host=host, guest=guest, read_only=read_only)


def _missing_subcommand(args: argparse.Namespace, ctx: Context) -> int:
    raise UsageError("ottermq handler: a subcommand is required (test)")


def _read_input(args: argparse.Namespace) -> str:
    if args.input_file == "-":
        text = sys.stdin.read()
    elif args.input_file:
        try:
            text = Path(args.input_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read --input-file {args.input_file}: {exc.strerror}") from None
    else:
        text = "{}" if args.input is None else args.input
    try:
        json.loads(text)
    except ValueError as exc:
        raise UsageError(f"the input is not valid JSON: {exc}") from None
    return text


def _spec(args: argparse.Namespace) -> SandboxSpec:
    from ottermq.wasm import SandboxSpec

    defaults = SandboxSpec()
    return SandboxSpec(
        abi=args.abi,
        memory_bytes=args.memory or defaults.memory_bytes,
        timeout_ms=args.timeout or defaults.timeout_ms,
        fuel=args.fuel,
        max_output_bytes=args.max_output or defaults.max_output_bytes,
        env=tuple(dict.fromkeys(args.env)),
        dirs=tuple(args.dir),
    )


def _print_text(ctx: Context, handler: LoadedHandler, result: CallResult) -> None:
    out = ctx.out
    out.write(f"shape:     {handler.shape} (sha256 {handler.digest[:16]})\n")
    out.write(f"time:      {result.elapsed_ms:.2f} ms\n")
    out.write(f"fuel used: {result.fuel_used if result.fuel_used is not None else 'not metered'}\n")
    if result.ok:
        out.write("result:    ok\n")
    else:
        permanence = "permanent, not retried" if result.permanent else "retryable"
        out.write(f"result:    failed ({result.kind}, {permanence})\n")
        out.write(f"error:     {_indent(result.error or '')}\n")
    if result.stderr:
        out.write(f"logs:\n{_indent(result.stderr.rstrip(), first=True)}\n")
    else:
        out.write("logs:      (none)\n")
    if result.ok and result.output is not None:
        out.write(f"output:\n{_indent(_pretty(result.output), first=True)}\n")


def _print_json(ctx: Context, handler: LoadedHandler, result: CallResult) -> None:
    report = {
        "ok": result.ok,
        "shape": handler.shape,
        "digest": handler.digest,
        "output": json.loads(result.output) if result.ok and result.output is not None else None,
        "error": result.error,
        "kind": str(result.kind) if result.kind else None,
        "permanent": result.permanent,
        "stderr": result.stderr,
        "elapsed_ms": round(result.elapsed_ms, 3),
        "fuel_used": result.fuel_used,
    }
    ctx.out.write(json.dumps(report, indent=2) + "\n")


def _pretty(text: str) -> str:
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False)


def _indent(text: str, first: bool = False) -> str:
    pad = "  " if first else " " * 11
    lines = text.splitlines() or [""]
    head = ("  " + lines[0]) if first else lines[0]
    return "\n".join([head, *(pad + line for line in lines[1:])])


def _size(text: str) -> int:
    try:
        return parse_size_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _duration(text: str) -> int:
    try:
        value = parse_duration_ms(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be longer than 0")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
