"""`ottermq worker`: lease tasks from queues and run their WASM handlers."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket

from ottermq.cli.context import Context


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("worker", help="run tasks", description=__doc__)
    parser.add_argument("--queues", "-q", default="default", metavar="A,B",
                        help="queues to consume, in order of preference (default: default)")
    parser.add_argument("--all-queues", action="store_true", help="consume every queue of every applied pipeline")
    parser.add_argument("--concurrency", "-c", type=int, default=os.cpu_count() or 2, metavar="N",
                        help="executor threads (default: the number of CPUs)")
    parser.add_argument("--burst", action="store_true", help="exit when there is no work left")
    parser.add_argument("--grace", type=float, default=30.0, metavar="SECONDS",
                        help="on SIGTERM, how long running tasks may take to finish (default 30)")
    parser.add_argument("--name", metavar="NAME", help="worker name in leases and logs (default host:pid)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ottermq.store.catalog import Catalog
    from ottermq.store.redis_store import RedisStore
    from ottermq.wasm import WasmRuntime
    from ottermq.worker.execute import Executor
    from ottermq.worker.plans import HandlerCache, PlanCache
    from ottermq.worker.runner import Worker

    logging.basicConfig(level=ctx.settings.log_level.upper(), format="%(asctime)s %(levelname)-7s %(message)s")
    name = args.name or f"{socket.gethostname()}:{os.getpid()}"
    store = RedisStore.from_settings(ctx.settings)
    catalog = Catalog(store.client, ctx.settings)
    queues = _queues(args, store, catalog)
    with WasmRuntime(ctx.settings.module_cache_dir / "compiled") as runtime:
        plans = PlanCache(catalog)
        handlers = HandlerCache(catalog, runtime, ctx.settings.module_cache_dir, plans)
        worker = Worker(store, Executor(plans, handlers), queues, concurrency=args.concurrency, name=name, burst=args.burst)

        def on_signal(signum: int, _frame: object) -> None:
            logging.getLogger("ottermq.worker").info("%s: stopping (signal %d): finishing running tasks", name, signum)
            worker.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        logging.getLogger("ottermq.worker").info("%s: consuming %s with %d threads", name, ",".join(queues), args.concurrency)
        stats = worker.run(grace_s=args.grace)
    store.close()
    logging.getLogger("ottermq.worker").info(
        "%s: stopped: %d succeeded, %d retried, %d dead-lettered", name, stats.succeeded, stats.retried, stats.dead
    )
    return 0


def _queues(args: argparse.Namespace, store: object, catalog: object) -> list[str]:
    if not args.all_queues:
        return [q.strip() for q in args.queues.split(",") if q.strip()]
    from ottermq.plan import ExecutionPlan

    names: list[str] = []
    for pipeline, version in catalog.pipelines().items():  # type: ignore[attr-defined]
        plan = ExecutionPlan.from_json(catalog.plan_json(catalog.plan_hash(pipeline, version)))  # type: ignore[attr-defined]
        for task in plan.tasks:
            if task.queue not in names:
                names.append(task.queue)
    return names or ["default"]
