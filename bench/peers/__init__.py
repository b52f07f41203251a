"""Runners for the comparative benchmark: OtterMQ's peers, measured the same way.

How to add a queue (OtterMQ's runner is added the same way)
-----------------------------------------------------------
Write ``peers/<name>_peer.py`` exposing ``create_runner() -> Runner`` and add
``"<name>": "peers.<name>_peer"`` to :data:`PEER_MODULES`. A runner implements
:class:`peers.interface.Runner`:

``setup(redis_url, log_dir)``
    Connect the client side. Called once per (peer, workload) in the driver
    process, after ``BENCH_REDIS_URL`` has been exported.
``describe() -> PeerConfig``
    Version, broker, worker command, delivery guarantee, chaining and bulk
    mechanisms: printed into the JSON report.
``enqueue_noop(n)``
    Pre-enqueue ``n`` no-op tasks (drain). Not timed.
``start_workers(processes) -> WorkerGroup``
    Start ``processes`` worker processes, concurrency 1 each, through the
    framework's own CLI (:func:`peers.workers.spawn`), and return at once. The
    driver starts its clock just before this call and kills the group after.
``completed() -> int``
    How many no-op tasks / chain ends have finished. Peers built on
    :class:`peers.base.SignalRunner` read the counter that each final task
    step INCRs (:mod:`peers.signals`); a queue whose handlers cannot reach
    Redis (OtterMQ's WASM handlers) reads its own processed counter instead.
``latency_roundtrip(timeout_s)``
    Enqueue one task and block until it has run; the driver times the call.
``enqueue_chains(n)``
    Enqueue ``n`` chains A -> B -> C with the framework's chaining mechanism
    (or, with none, each step enqueues the next); C signals ``done``. Not timed.
``bulk_enqueue(n)``
    Enqueue ``n`` no-op tasks as fast as the client allows (the bulk API if
    there is one). Timed by the driver; no workers run.
``teardown()``
    Close connections and loops. Must not raise.

The driver (:mod:`peers.driver`) owns the clock, the repetitions, the time
bounds, worker clean-up and the FLUSHALL between repetitions; the workloads
are in :mod:`peers.workloads`.
"""

from __future__ import annotations

import importlib

from peers.interface import PeerConfig, Runner

__all__ = ["PEER_MODULES", "PeerConfig", "Runner", "load_runner"]

PEER_MODULES: dict[str, str] = {
    "celery": "peers.celery_peer",
    "dramatiq": "peers.dramatiq_peer",
    "rq": "peers.rq_peer",
    "arq": "peers.arq_peer",
    "taskiq": "peers.taskiq_peer",
    "huey": "peers.huey_peer",
    "saq": "peers.saq_peer",
}


def load_runner(name: str) -> Runner:
    """Import a peer module (after ``BENCH_REDIS_URL`` is set) and create its runner."""
    module = importlib.import_module(PEER_MODULES[name])
    runner: Runner = module.create_runner()
    return runner
