"""Dramatiq with its Redis broker, ``--processes N --threads 1``, no result backend.

Dramatiq's Redis consumer fetches a batch of messages with one Lua call and,
when the queue is empty, polls again after an exponential back-off that
starts at 5-10 ms (``dramatiq.common.compute_backoff``). That floor shows in
the latency workload; it is Dramatiq's design and no setting lowers it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from peers import signals
from peers.base import SignalRunner, installed_version
from peers.interface import PeerConfig
from peers.workers import WorkerGroup, spawn

QUEUE = "bench"
# Messages fetched per Lua call. Dramatiq's default is 2 x threads = 2, and a
# consumer whose prefetch is full sleeps its 5-10 ms back-off as if the queue
# were empty: measured here, 2 drains about 200 tasks/s per process, 16 and 64
# about 1,400 (docs/benchmarks.md).
QUEUE_PREFETCH = 16

broker = RedisBroker(url=signals.redis_url())
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def noop() -> None:
    signals.done()


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def ping() -> None:
    signals.ping()


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def step_a(i: int) -> int:
    return i + 1


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def step_b(x: int) -> int:
    return x + 1


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def step_c(x: int) -> None:
    signals.done()


class DramatiqRunner(SignalRunner):
    name = "dramatiq"

    def setup(self, redis_url: str, log_dir: Path) -> None:
        self._setup_signals(redis_url, log_dir)

    def describe(self) -> PeerConfig:
        return PeerConfig(
            name=self.name,
            package="dramatiq",
            version=installed_version("dramatiq"),
            broker="RedisBroker (Lua scripts), JSON messages, default middleware, no Results middleware",
            worker=f"dramatiq peers.dramatiq_peer --processes N --threads 1, dramatiq_queue_prefetch={QUEUE_PREFETCH}",
            delivery="at least once: messages are acked after the actor ran; max_retries=0",
            chaining="dramatiq.pipeline([a.message(i), b.message(), c.message()])",
            bulk="broker.enqueue per message (one Lua call each; group() does the same)",
        )

    def enqueue_noop(self, n: int) -> None:
        self.bulk_enqueue(n)

    def start_workers(self, processes: int) -> WorkerGroup:
        command = [
            sys.executable, "-m", "dramatiq", "peers.dramatiq_peer",
            "--processes", str(processes), "--threads", "1", "--queues", QUEUE,
        ]
        return spawn([command], redis_url=self._url, log_dir=self._log_dir, name="dramatiq",
                     env={"dramatiq_queue_prefetch": str(QUEUE_PREFETCH)})

    def enqueue_ping(self) -> None:
        ping.send()

    def enqueue_chains(self, n: int) -> None:
        for i in range(n):
            dramatiq.pipeline([step_a.message(i), step_b.message(), step_c.message()], broker=broker).run()

    def bulk_enqueue(self, n: int) -> None:
        for _ in range(n):
            noop.send()

    def teardown(self) -> None:
        # The module-level app/broker outlives the runner: the next case imports the same module.
        self._teardown_signals()


def create_runner() -> DramatiqRunner:
    return DramatiqRunner()
