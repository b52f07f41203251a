"""RQ with ``SimpleWorker`` (runs jobs in the worker process: no fork per job).

RQ's default ``Worker`` forks a work horse for every job; ``SimpleWorker`` is
the documented choice when that isolation is not wanted, and the fastest. One ``rq worker`` command per process. Jobs
keep no result (``result_ttl=0``) except chain steps that have dependents.
"""

from __future__ import annotations

from pathlib import Path

import redis
from rq import Queue

from peers import signals
from peers.base import SignalRunner, installed_version
from peers.errors import SetupError
from peers.interface import PeerConfig
from peers.workers import WorkerGroup, console_script, spawn

QUEUE = "bench"
_ENQUEUE_CHUNK = 1000


def noop() -> None:
    signals.done()


def ping() -> None:
    signals.ping()


def step_a(i: int) -> int:
    return i + 1


def step_b() -> None:
    """RQ's depends_on orders jobs but passes no result along."""


def step_c() -> None:
    signals.done()


class RqRunner(SignalRunner):
    name = "rq"

    def __init__(self) -> None:
        super().__init__()
        self._conn: redis.Redis | None = None
        self._queue: Queue | None = None

    def setup(self, redis_url: str, log_dir: Path) -> None:
        self._setup_signals(redis_url, log_dir)
        self._conn = redis.Redis.from_url(redis_url)
        self._queue = Queue(QUEUE, connection=self._conn)

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            raise SetupError("runner used before setup()")
        return self._queue

    def describe(self) -> PeerConfig:
        return PeerConfig(
            name=self.name,
            package="rq",
            version=installed_version("rq"),
            broker="RQ's own Redis layout (list per queue, hash per job), pickle",
            worker="rq worker --worker-class rq.worker.SimpleWorker --disable-job-desc-logging, one command per process",
            delivery="a job popped by a worker that dies is moved to the failed registry by the next maintenance",
            chaining="depends_on: B depends on A, C on B (enqueued up front; no result passing)",
            bulk="Queue.enqueue_many(Queue.prepare_data(...)) in one pipeline per 1,000 jobs",
            notes="result_ttl=0 for no-op and ping jobs",
        )

    def enqueue_noop(self, n: int) -> None:
        self.bulk_enqueue(n)

    def start_workers(self, processes: int) -> WorkerGroup:
        commands = [
            [
                console_script("rq"), "worker", "--url", self._url,
                "--worker-class", "rq.worker.SimpleWorker",
                "--disable-job-desc-logging", "--logging_level", "WARNING",
                "--name", f"bench-{i}", QUEUE,
            ]
            for i in range(processes)
        ]
        return spawn(commands, redis_url=self._url, log_dir=self._log_dir, name="rq")

    def enqueue_ping(self) -> None:
        self.queue.enqueue(ping, result_ttl=0)

    def enqueue_chains(self, n: int) -> None:
        for i in range(n):
            a = self.queue.enqueue(step_a, i)
            b = self.queue.enqueue(step_b, depends_on=a)
            self.queue.enqueue(step_c, depends_on=b, result_ttl=0)

    def bulk_enqueue(self, n: int) -> None:
        for start in range(0, n, _ENQUEUE_CHUNK):
            count = min(_ENQUEUE_CHUNK, n - start)
            self.queue.enqueue_many([Queue.prepare_data(noop, result_ttl=0) for _ in range(count)])

    def teardown(self) -> None:
        self._teardown_signals()
        if self._conn is not None:
            self._conn.close()


def create_runner() -> RqRunner:
    return RqRunner()
