"""`ottermq worker`: lease tasks from queues and run their WASM handlers.

With --processes, a supervisor runs that many worker processes (or scales between MIN and
MAX with the backlog), replaces any that die, and forwards SIGTERM/SIGINT to them.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import socket
import sys

from ottermq.cli.context import Context
from ottermq.errors import UsageError

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("worker", help="run tasks", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queues", "-q", default="default", metavar="A,B",
                        help="queues to consume, in order of preference (default: default)")
    parser.add_argument("--all-queues", action="store_true", help="consume every queue of every applied pipeline")
    parser.add_argument("--concurrency", "-c", type=int, default=os.cpu_count() or 2, metavar="N",
                        help="executor threads per process (default: the number of CPUs)")
    parser.add_argument("--processes", "-p", metavar="N|auto|MIN:MAX",
                        help="run N worker processes under a supervisor that replaces any that die; "
                             "auto (1 to the number of CPUs) or MIN:MAX scales them with the backlog")
    parser.add_argument("--burst", action="store_true", help="exit when the queues have nothing ready, delayed or running")
    parser.add_argument("--grace", type=float, default=30.0, metavar="SECONDS",
                        help="on SIGTERM, how long running tasks may take to finish (default 30); a second SIGTERM abandons them")
    parser.add_argument("--name", metavar="NAME", help="worker name in leases and logs (default host:pid)")
    # Set by a supervisor on the processes it starts: the supervisor's pid.
    parser.add_argument("--child", type=int, metavar="PID", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.concurrency < 1:
        raise UsageError(f"ottermq worker: --concurrency must be at least 1, not {args.concurrency}")
    if args.processes is not None and args.child is None:
        return _supervise(args, ctx)
    return _work(args, ctx)


def _work(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.store.catalog import Catalog
    from ottermq.store.redis_store import RedisStore
    from ottermq.wasm import WasmRuntime
    from ottermq.worker.children import follow_parent
    from ottermq.worker.execute import Executor
    from ottermq.worker.plans import HandlerCache, PlanCache
    from ottermq.worker.runner import Worker

    name = args.name or f"{socket.gethostname()}:{os.getpid()}"
    fmt = LOG_FORMAT.replace("%(message)s", f"[{name}] %(message)s") if args.child is not None else LOG_FORMAT
    logging.basicConfig(level=ctx.settings.log_level.upper(), format=fmt)
    log = logging.getLogger("ottermq.worker")
    # Signals are handled from the start: a stop that comes while the worker is still
    # starting up (a supervisor scaling down, a quick Ctrl-C) is a clean exit, not a kill.
    signals: list[str] = []
    worker: Worker | None = None

    def on_signal(signum: int, _frame: object) -> None:
        signals.append(signal.Signals(signum).name)
        if worker is None:
            return
        if len(signals) == 1:
            running = worker.running
            log.info("%s: stopping (%s)%s", name, signals[-1], f": finishing {running} running task(s)" if running else "")
        else:
            log.warning("%s: stopping now (%s again): running tasks are abandoned", name, signals[-1])
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.child is not None:
        follow_parent(args.child)
    store = RedisStore.from_settings(ctx.settings)
    catalog = Catalog(store.client, ctx.settings)
    queues = _queues(args, catalog)
    with WasmRuntime(ctx.settings.module_cache_dir / "compiled") as runtime:
        plans = PlanCache(catalog)
        handlers = HandlerCache(catalog, runtime, ctx.settings.module_cache_dir, plans)
        worker = Worker(store, Executor(plans, handlers), queues, concurrency=args.concurrency, name=name,
                        burst=args.burst)
        for _ in signals:
            worker.stop()
        if signals:
            log.info("%s: stopped (%s) before it started", name, signals[0])
        else:
            log.info("%s: consuming %s with %d threads", name, ",".join(queues), args.concurrency)
        stats = worker.run(grace_s=args.grace)
        if stats.abandoned:
            # Executor threads still run abandoned handlers; do not wait for them (their leases
            # expire and the tasks run again elsewhere) nor tear down the runtime under them.
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
    catalog.close()
    store.close()
    return 0


def _supervise(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.store.catalog import Catalog
    from ottermq.store.redis_store import RedisStore
    from ottermq.worker.autoscale import ScalePolicy, parse_processes
    from ottermq.worker.backlog import BacklogProbe
    from ottermq.worker.children import ChildCommand, ProcessLauncher
    from ottermq.worker.supervisor import Supervisor

    try:
        minimum, maximum = parse_processes(args.processes, os.cpu_count() or 1)
    except ValueError as exc:
        raise UsageError(f"ottermq worker: --processes {exc}") from None
    logging.basicConfig(level=ctx.settings.log_level.upper(), format=LOG_FORMAT)
    settings = ctx.settings
    if settings.redis_url is None:
        from ottermq.embedded import ensure_running

        # Resolve the embedded server once, so every child connects to the same URL.
        settings = dataclasses.replace(settings, redis_url=ensure_running(settings))
    store = RedisStore.from_settings(settings)
    catalog = Catalog(store.client, settings)
    try:
        queues = _queues(args, catalog)
        probe = BacklogProbe(store, queues, catalog) if maximum > minimum else None
        command = ChildCommand(settings, tuple(queues), args.concurrency, args.grace, args.burst)
        supervisor = Supervisor(
            ProcessLauncher(command), minimum=minimum, maximum=maximum,
            name=args.name or f"{socket.gethostname()}:{os.getpid()}", grace_s=args.grace, probe=probe,
            policy=ScalePolicy(minimum, maximum, args.concurrency), burst=args.burst,
        )
        signal.signal(signal.SIGTERM, lambda *_: supervisor.stop())
        signal.signal(signal.SIGINT, lambda *_: supervisor.stop())
        signal.signal(signal.SIGCHLD, lambda *_: supervisor.wake())
        return supervisor.run()
    finally:
        catalog.close()
        store.close()


def _queues(args: argparse.Namespace, catalog: object) -> list[str]:
    if not args.all_queues:
        return [q.strip() for q in args.queues.split(",") if q.strip()]
    names: list[str] = []
    for pipeline, version in catalog.pipelines().items():  # type: ignore[attr-defined]
        plan = catalog.plan_at(pipeline, version)  # type: ignore[attr-defined]
        for task in plan.tasks:
            if task.queue not in names:
                names.append(task.queue)
    return names or ["default"]
