"""taskiq with taskiq-redis's ``ListQueueBroker``, ``--workers N --max-async-tasks 1``.

``ListQueueBroker`` is taskiq-redis's plain list queue (LPUSH / BRPOP): the
lightest of its brokers. ``RedisStreamBroker`` adds acknowledgements, but its
consumer group is created at ``$`` when a broker starts, so the tasks that the
drain workload adds to a freshly flushed server are never delivered. No result backend. taskiq
has no chaining primitive in its core (chaining lives in the separate
taskiq-pipelines package): each chain step kicks the next from inside the task.
"""

from __future__ import annotations

import sys
from pathlib import Path

from taskiq_redis import ListQueueBroker

from peers import signals
from peers.base import AsyncBridge, SignalRunner, gather_in_chunks, installed_version
from peers.interface import PeerConfig
from peers.workers import WorkerGroup, spawn

QUEUE = "bench"
# kiq() calls in flight at once from the client (bulk): one LPUSH each. Measured
# here, 32 in flight was slower than one at a time (each kick takes a connection
# from taskiq-redis's blocking pool).
BULK_CONCURRENCY = 1
# Messages a worker may hold beyond the one it runs.
MAX_PREFETCH = 0

broker = ListQueueBroker(url=signals.redis_url(), queue_name=QUEUE)


@broker.task(task_name="bench.noop")
async def noop() -> None:
    await signals.done_async()


@broker.task(task_name="bench.ping")
async def ping() -> None:
    await signals.ping_async()


@broker.task(task_name="bench.step_a")
async def step_a(i: int) -> None:
    await step_b.kiq(i + 1)


@broker.task(task_name="bench.step_b")
async def step_b(x: int) -> None:
    await step_c.kiq(x + 1)


@broker.task(task_name="bench.step_c")
async def step_c(x: int) -> None:
    await signals.done_async()


class TaskiqRunner(SignalRunner):
    name = "taskiq"

    def __init__(self) -> None:
        super().__init__()
        self._bridge = AsyncBridge()
        self._started = False

    def setup(self, redis_url: str, log_dir: Path) -> None:
        self._setup_signals(redis_url, log_dir)
        self._bridge.run(broker.startup())
        self._started = True

    def describe(self) -> PeerConfig:
        return PeerConfig(
            name=self.name,
            package="taskiq",
            version=f"{installed_version('taskiq')} (taskiq-redis {installed_version('taskiq-redis')})",
            broker="taskiq-redis ListQueueBroker (LPUSH / BRPOP), JSON, no result backend",
            worker="taskiq worker peers.taskiq_peer:broker --workers N --max-async-tasks 1 "
            f"--max-prefetch {MAX_PREFETCH} --no-parse",
            delivery="at most once: a message popped by a worker that dies is lost",
            chaining="none in taskiq core: step A kicks B, B kicks C (task.kiq from inside the task)",
            bulk="kiq() per task, one at a time; taskiq has no bulk kick",
        )

    def enqueue_noop(self, n: int) -> None:
        self.bulk_enqueue(n)

    def start_workers(self, processes: int) -> WorkerGroup:
        command = [
            sys.executable, "-m", "taskiq", "worker", "peers.taskiq_peer:broker",
            "--workers", str(processes), "--max-async-tasks", "1", "--max-prefetch", str(MAX_PREFETCH),
            "--no-parse", "--log-level", "WARNING",
        ]
        return spawn([command], redis_url=self._url, log_dir=self._log_dir, name="taskiq")

    def enqueue_ping(self) -> None:
        self._bridge.run(ping.kiq())

    def enqueue_chains(self, n: int) -> None:
        calls = ((lambda i=i: step_a.kiq(i)) for i in range(n))
        self._bridge.run(gather_in_chunks(calls, BULK_CONCURRENCY))

    def bulk_enqueue(self, n: int) -> None:
        self._bridge.run(gather_in_chunks((noop.kiq for _ in range(n)), BULK_CONCURRENCY))

    def teardown(self) -> None:
        self._teardown_signals()
        if self._started:
            self._started = False
            self._bridge.run(broker.shutdown())
        self._bridge.close()


def create_runner() -> TaskiqRunner:
    return TaskiqRunner()
