"""arq: one ``arq`` worker command per process, ``max_jobs=1``, results not kept.

arq has no blocking wake-up: a worker polls its queue (a sorted set) every
``poll_delay`` seconds, 0.5 s by default. With ``max_jobs=1`` a poll starts at
most one job (``Worker.start_jobs`` stops when the job counter is full), so a
worker sleeps ``poll_delay`` between any two jobs, even on a full queue. We
set 5 ms: 1, 2 and 5 ms measured within noise of each other here, and an idle
worker then sends 200 polls a second, which is as far as we would take an
idle fleet. arq has no chaining primitive: each chain step enqueues the next
from inside the job.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import func

from peers import signals
from peers.base import AsyncBridge, SignalRunner, gather_in_chunks, installed_version
from peers.errors import SetupError
from peers.interface import PeerConfig
from peers.workers import WorkerGroup, spawn

QUEUE = "bench"
POLL_DELAY_S = 0.005
# Enqueue calls in flight at once from the client (bulk): arq's enqueue is a
# WATCH/MULTI transaction per job, so overlapping them hides the round trips.
BULK_CONCURRENCY = 32


async def noop(ctx: dict[str, Any]) -> None:
    await signals.done_async()


async def ping(ctx: dict[str, Any]) -> None:
    await signals.ping_async()


async def step_a(ctx: dict[str, Any], i: int) -> None:
    await ctx["redis"].enqueue_job("step_b", i + 1, _queue_name=QUEUE)


async def step_b(ctx: dict[str, Any], x: int) -> None:
    await ctx["redis"].enqueue_job("step_c", x + 1, _queue_name=QUEUE)


async def step_c(ctx: dict[str, Any], x: int) -> None:
    await signals.done_async()


class WorkerSettings:
    functions = [func(f, keep_result=0, max_tries=1) for f in (noop, ping, step_a, step_b, step_c)]
    redis_settings = RedisSettings.from_dsn(signals.redis_url())
    queue_name = QUEUE
    max_jobs = 1
    poll_delay = POLL_DELAY_S
    keep_result = 0
    handle_signals = True


class ArqRunner(SignalRunner):
    name = "arq"

    def __init__(self) -> None:
        super().__init__()
        self._bridge = AsyncBridge()
        self._pool: ArqRedis | None = None

    def setup(self, redis_url: str, log_dir: Path) -> None:
        self._setup_signals(redis_url, log_dir)
        self._pool = self._bridge.run(create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=QUEUE))

    @property
    def pool(self) -> ArqRedis:
        if self._pool is None:
            raise SetupError("runner used before setup()")
        return self._pool

    def describe(self) -> PeerConfig:
        return PeerConfig(
            name=self.name,
            package="arq",
            version=installed_version("arq"),
            broker="arq's sorted-set queue, polled; pickle; keep_result=0",
            worker=f"arq peers.arq_peer.WorkerSettings (max_jobs=1, poll_delay={POLL_DELAY_S}), one command per process",
            delivery="at least once: a job whose worker died runs again once its in-progress key expires",
            chaining="none in arq: step A enqueues B, B enqueues C (ctx['redis'].enqueue_job)",
            bulk=f"enqueue_job per job, {BULK_CONCURRENCY} in flight (asyncio.gather); arq has no bulk enqueue",
            notes="arq 0.28 pins redis<6; installed with --no-deps on redis-py 8.1",
        )

    def enqueue_noop(self, n: int) -> None:
        self.bulk_enqueue(n)

    def start_workers(self, processes: int) -> WorkerGroup:
        command = [sys.executable, "-m", "arq", "peers.arq_peer.WorkerSettings"]
        return spawn([command] * processes, redis_url=self._url, log_dir=self._log_dir, name="arq")

    def enqueue_ping(self) -> None:
        self._bridge.run(self.pool.enqueue_job("ping"))

    def enqueue_chains(self, n: int) -> None:
        pool = self.pool
        calls = ((lambda i=i: pool.enqueue_job("step_a", i)) for i in range(n))
        self._bridge.run(gather_in_chunks(calls, BULK_CONCURRENCY))

    def bulk_enqueue(self, n: int) -> None:
        pool = self.pool
        self._bridge.run(gather_in_chunks((lambda: pool.enqueue_job("noop") for _ in range(n)), BULK_CONCURRENCY))

    def teardown(self) -> None:
        self._teardown_signals()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            self._bridge.run(pool.aclose())
        self._bridge.close()


def create_runner() -> ArqRunner:
    return ArqRunner()
