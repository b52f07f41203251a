"""Celery with its Redis broker (kombu), the solo pool, no result backend.

Worker: ``celery worker --pool solo --concurrency 1`` once per process. The solo
pool runs tasks in the consumer process itself, so there is no parent/child
IPC as with a one-child prefork pool (``-O fair`` only affects prefork, so it
has nothing to do here). Gossip, mingle and heartbeat are off: they are
cluster chatter the benchmark does not use. No workload needs a result
backend (completion is signalled by the task itself), so none is configured
and every task has ``ignore_result``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from celery import Celery, chain

from peers import signals
from peers.base import SignalRunner, installed_version
from peers.interface import PeerConfig
from peers.workers import WorkerGroup, spawn

QUEUE = "bench"
# Celery's default. Measured here (docs/benchmarks.md), 1, 4, 16 and 64 drain
# within noise of each other: kombu's Redis transport BRPOPs one message at a time
# whatever the prefetch, and the solo pool runs each task inline.
PREFETCH_MULTIPLIER = 4

app = Celery("bench", broker=signals.redis_url(), set_as_current=False)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_default_queue=QUEUE,
    task_acks_late=False,
    worker_prefetch_multiplier=PREFETCH_MULTIPLIER,
    worker_disable_rate_limits=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.noop", ignore_result=True)
def noop() -> None:
    signals.done()


@app.task(name="bench.ping", ignore_result=True)
def ping() -> None:
    signals.ping()


@app.task(name="bench.step_a", ignore_result=True)
def step_a(i: int) -> int:
    return i + 1


@app.task(name="bench.step_b", ignore_result=True)
def step_b(x: int) -> int:
    return x + 1


@app.task(name="bench.step_c", ignore_result=True)
def step_c(x: int) -> None:
    signals.done()


class CeleryRunner(SignalRunner):
    name = "celery"

    def setup(self, redis_url: str, log_dir: Path) -> None:
        self._setup_signals(redis_url, log_dir)

    def describe(self) -> PeerConfig:
        return PeerConfig(
            name=self.name,
            package="celery",
            version=installed_version("celery"),
            broker="kombu Redis transport (LPUSH/BRPOP), JSON messages, no result backend",
            worker=f"celery worker --pool solo --concurrency 1 --prefetch-multiplier {PREFETCH_MULTIPLIER} "
            "--without-gossip --without-mingle --without-heartbeat, one command per process",
            delivery="acks early (task_acks_late=False): a message is acked when received",
            chaining="celery.chain(a.s(i), b.s(), c.s())",
            bulk="apply_async in a loop over one producer (one LPUSH per task; kombu has no bulk publish)",
        )

    def enqueue_noop(self, n: int) -> None:
        self.bulk_enqueue(n)

    def start_workers(self, processes: int) -> WorkerGroup:
        commands = [
            [
                sys.executable, "-m", "celery", "-A", "peers.celery_peer:app", "worker",
                "--pool", "solo", "--concurrency", "1",
                "--prefetch-multiplier", str(PREFETCH_MULTIPLIER),
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-Q", QUEUE, "-n", f"bench{i}@%h", "--loglevel", "WARNING",
            ]
            for i in range(processes)
        ]
        return spawn(commands, redis_url=self._url, log_dir=self._log_dir, name="celery")

    def enqueue_ping(self) -> None:
        ping.apply_async()

    def enqueue_chains(self, n: int) -> None:
        with app.producer_or_acquire() as producer:
            for i in range(n):
                chain(step_a.s(i), step_b.s(), step_c.s()).apply_async(producer=producer)

    def bulk_enqueue(self, n: int) -> None:
        with app.producer_or_acquire() as producer:
            for _ in range(n):
                noop.apply_async(producer=producer)

    def teardown(self) -> None:
        # The module-level app/broker outlives the runner: the next case imports the same module.
        self._teardown_signals()


def create_runner() -> CeleryRunner:
    return CeleryRunner()
