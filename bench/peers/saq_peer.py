"""saq with its Redis queue, ``--workers N`` and ``concurrency: 1``, results not kept.

saq's worker blocks on BLMOVE, so it wakes as soon as a job is enqueued.
Jobs are enqueued with ``ttl=-1``: saq deletes the job record when it
finishes instead of storing the result. saq has no chaining primitive: each
chain step enqueues the next from inside the job.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from saq import Queue

from peers import signals
from peers.base import AsyncBridge, SignalRunner, gather_in_chunks, installed_version
from peers.errors import SetupError
from peers.interface import PeerConfig
from peers.workers import WorkerGroup, spawn

QUEUE = "bench"
NO_RESULT_TTL = -1
# enqueue() calls in flight at once from the client (bulk); saq's own map() gathers the same way.
BULK_CONCURRENCY = 32

queue = Queue.from_url(signals.redis_url(), name=QUEUE)


async def noop(ctx: dict[str, Any]) -> None:
    await signals.done_async()


async def ping(ctx: dict[str, Any]) -> None:
    await signals.ping_async()


async def step_a(ctx: dict[str, Any], *, i: int) -> None:
    await ctx["job"].queue.enqueue("step_b", x=i + 1, ttl=NO_RESULT_TTL)


async def step_b(ctx: dict[str, Any], *, x: int) -> None:
    await ctx["job"].queue.enqueue("step_c", x=x + 1, ttl=NO_RESULT_TTL)


async def step_c(ctx: dict[str, Any], *, x: int) -> None:
    await signals.done_async()


settings = {
    "queue": queue,
    "functions": [noop, ping, step_a, step_b, step_c],
    "concurrency": 1,
}


class SaqRunner(SignalRunner):
    name = "saq"

    def __init__(self) -> None:
        super().__init__()
        self._bridge = AsyncBridge()
        self._queue: Queue | None = None

    def setup(self, redis_url: str, log_dir: Path) -> None:
        self._setup_signals(redis_url, log_dir)
        # A queue of our own: its connections belong to the bridge's event loop.
        self._queue = Queue.from_url(redis_url, name=QUEUE)
        self._bridge.run(self._queue.connect())

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            raise SetupError("runner used before setup()")
        return self._queue

    def describe(self) -> PeerConfig:
        return PeerConfig(
            name=self.name,
            package="saq",
            version=installed_version("saq"),
            broker="saq RedisQueue (list + job records, BLMOVE), JSON, ttl=-1 (no result kept)",
            worker="saq peers.saq_peer.settings --workers N --quiet, settings concurrency=1",
            delivery="the sweeper aborts a dead worker's job after its timeout, or retries it if it has retries left",
            chaining="none in saq: step A enqueues B, B enqueues C (ctx['job'].queue.enqueue)",
            bulk=f"enqueue() per job, {BULK_CONCURRENCY} in flight (asyncio.gather, as saq's map() does)",
        )

    def enqueue_noop(self, n: int) -> None:
        self.bulk_enqueue(n)

    def start_workers(self, processes: int) -> WorkerGroup:
        command = [sys.executable, "-m", "saq", "peers.saq_peer.settings", "--workers", str(processes), "--quiet"]
        return spawn([command], redis_url=self._url, log_dir=self._log_dir, name="saq")

    def enqueue_ping(self) -> None:
        self._bridge.run(self.queue.enqueue("ping", ttl=NO_RESULT_TTL))

    def enqueue_chains(self, n: int) -> None:
        q = self.queue
        calls = ((lambda i=i: q.enqueue("step_a", i=i, ttl=NO_RESULT_TTL)) for i in range(n))
        self._bridge.run(gather_in_chunks(calls, BULK_CONCURRENCY))

    def bulk_enqueue(self, n: int) -> None:
        q = self.queue
        self._bridge.run(gather_in_chunks((lambda: q.enqueue("noop", ttl=NO_RESULT_TTL) for _ in range(n)), BULK_CONCURRENCY))

    def teardown(self) -> None:
        self._teardown_signals()
        if self._queue is not None:
            q, self._queue = self._queue, None
            self._bridge.run(q.disconnect())
        self._bridge.close()


def create_runner() -> SaqRunner:
    return SaqRunner()
