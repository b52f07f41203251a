"""Entry point: parse arguments, resolve settings, run one subcommand, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ottermq import __version__
from ottermq.cli.context import Context
from ottermq.cli.errors import handle_errors
from ottermq.errors import UsageError
from ottermq.settings import load_settings

# Subcommand modules, in the order `ottermq --help` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "validate",
    "plan",
    "apply",
    "run",
    "worker",
    "runs",
    "queues",
    "dlq",
    "events",
    "pipelines",
    "rollback",
    "server",
    "handler",
)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors share one exit path."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ottermq", description="Declarative task pipelines on Redis with WebAssembly handlers.")
    parser.add_argument("--version", action="version", version=f"ottermq {__version__}")
    parser.add_argument("--config", metavar="FILE", help="settings file (default: ./ottermq.yaml if present)")
    parser.add_argument("--redis-url", dest="redis_url", metavar="URL", help="Redis URL; default: the embedded server")
    parser.add_argument("--data-dir", dest="data_dir", metavar="DIR", help="local state directory (default .ottermq)")
    parser.add_argument("--shards", type=int, metavar="N", help="number of keyspace shards")
    parser.add_argument("--log-level", dest="log_level", choices=("debug", "info", "warning", "error"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"ottermq.cli.{name}")
        module.register(sub)
    return parser


GLOBAL_SETTING_FLAGS = ("redis_url", "data_dir", "shards", "log_level")


def main(argv: Sequence[str] | None = None) -> int:
    with handle_errors() as outcome:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help(sys.stderr)
            return 2
        flags = {name: getattr(args, name, None) for name in GLOBAL_SETTING_FLAGS}
        settings = load_settings(flags, config_file=args.config)
        outcome.log_dir = settings.log_dir
        return int(args.handler(args, Context(settings=settings)))
    return outcome.exit_code


def entrypoint() -> None:
    sys.exit(main())
