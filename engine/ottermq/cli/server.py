"""`ottermq server start|status|stop`: the embedded Redis server of the data dir."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ottermq.cli.context import Context
from ottermq.cli.output import add_output_flag
from ottermq.errors import UserError
from ottermq.units import format_duration_ms

if TYPE_CHECKING:
    from ottermq.embedded import ServerStatus

HELP = "start, inspect or stop the embedded Redis server"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("server", help=HELP, description=HELP + " (used when no redis_url is set)")
    actions = parser.add_subparsers(dest="server_action", metavar="ACTION", required=True)
    actions.add_parser("start", help="start the server, or report the one already running")
    status = actions.add_parser("status", help="show pid, URL, version, uptime and memory (exit 1 if not running)")
    add_output_flag(status)
    stop = actions.add_parser("stop", help="stop the server, letting it flush its AOF")
    stop.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="how long to wait (default 10)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:

    action: str = args.server_action
    if action == "start":
        return _start(ctx)
    if action == "status":
        return _status(ctx, args.output)
    return _stop(ctx, args.timeout)


def _start(ctx: Context) -> int:
    if ctx.settings.redis_url:
        raise UserError(
            f"an external Redis is configured ({redact(ctx.settings.redis_url)}); the embedded server is not used."
            " Unset `redis_url` (flag --redis-url, OTTERMQ_REDIS_URL or ottermq.yaml) to use it"
        )
    from ottermq import embedded

    url, started = embedded.ensure_running_verbose(ctx.settings)
    if started:
        print(f"started the embedded Redis server at {url}", file=ctx.out)
    else:
        print(f"the embedded Redis server is already running at {url}", file=ctx.out)
    return 0


def _status(ctx: Context, output: str) -> int:
    _note_external(ctx)
    from ottermq import embedded

    found = embedded.status(ctx.settings)
    if output == "json":
        data = found.to_json() if found else {"running": False, "data_dir": str(ctx.settings.data_dir.resolve())}
        print(json.dumps(data, indent=2), file=ctx.out)
    elif found is None:
        print(f"the embedded Redis server is not running (data dir {ctx.settings.data_dir.resolve()})", file=ctx.out)
    else:
        _print_status(ctx, found)
    return 0 if found else 1


def _stop(ctx: Context, timeout: float) -> int:
    _note_external(ctx)
    from ottermq import embedded

    if embedded.stop(ctx.settings, timeout=timeout):
        print("stopped the embedded Redis server", file=ctx.out)
    else:
        print(f"the embedded Redis server was not running (data dir {ctx.settings.data_dir.resolve()})", file=ctx.out)
    return 0


def _print_status(ctx: Context, found: ServerStatus) -> None:
    rows = [
        ("state", "loading its data" if found.loading else "running"),
        ("pid", str(found.pid)),
        ("url", found.url),
        ("version", f"{found.server} {found.version}"),
        ("binary", found.binary),
        ("uptime", format_duration_ms(found.uptime_s * 1000)),
        ("memory", found.used_memory_human or f"{found.used_memory} B"),
        ("aof", "on" if found.aof_enabled else "off"),
        ("data dir", found.data_dir),
    ]
    print("embedded Redis server", file=ctx.out)
    for label, value in rows:
        print(f"  {label:<9} {value}", file=ctx.out)


def _note_external(ctx: Context) -> None:
    if ctx.settings.redis_url:
        print(
            f"note: an external Redis is configured ({redact(ctx.settings.redis_url)});"
            " OtterMQ does not use the embedded server",
            file=ctx.err,
        )


def redact(url: str) -> str:
    """The URL with its password replaced, fit for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
