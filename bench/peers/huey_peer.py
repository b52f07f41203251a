"""huey with ``RedisHuey`` (blocking BRPOP), ``-k process -w N``, results off.

The consumer's periodic-task scheduler and worker health check are turned off
(``-n -C``): the benchmark schedules nothing, and the health check is a
restart safety net, not part of task delivery.
"""

from __future__ import annotations

import sys
from pathlib import Path

from huey import RedisHuey

from peers import signals
from peers.base import SignalRunner, installed_version
from peers.interface import PeerConfig
from peers.workers import WorkerGroup, spawn

# Worker processes, not threads, so N processes really run N tasks in parallel on
# N cores; with -w 1 a thread worker was within noise of it (docs/benchmarks.md).
WORKER_TYPE = "process"

huey = RedisHuey("bench", url=signals.redis_url(), results=False, blocking=True)


@huey.task()
def noop() -> None:
    signals.done()


@huey.task()
def ping() -> None:
    signals.ping()


@huey.task()
def step_a(i: int) -> int:
    return i + 1


@huey.task()
def step_b(x: int) -> int:
    return x + 1


@huey.task()
def step_c(x: int) -> None:
    signals.done()


class HueyRunner(SignalRunner):
    name = "huey"

    def setup(self, redis_url: str, log_dir: Path) -> None:
        self._setup_signals(redis_url, log_dir)

    def describe(self) -> PeerConfig:
        return PeerConfig(
            name=self.name,
            package="huey",
            version=installed_version("huey"),
            broker="RedisHuey: one list per queue (LPUSH / blocking BRPOP), pickle, results=False",
            worker="huey_consumer peers.huey_peer.huey -k process -w N -n -C (N worker processes + the consumer)",
            delivery="at most once: a task popped by a worker that dies is lost",
            chaining="huey pipeline: a.s(i).then(b).then(c)",
            bulk="task call per task (one LPUSH each; huey has no bulk enqueue)",
        )

    def enqueue_noop(self, n: int) -> None:
        self.bulk_enqueue(n)

    def start_workers(self, processes: int) -> WorkerGroup:
        command = [
            sys.executable, "-m", "huey.bin.huey_consumer", "peers.huey_peer.huey",
            "-k", WORKER_TYPE, "-w", str(processes), "-n", "-C", "-q",
        ]
        return spawn([command], redis_url=self._url, log_dir=self._log_dir, name="huey")

    def enqueue_ping(self) -> None:
        ping()

    def enqueue_chains(self, n: int) -> None:
        for i in range(n):
            huey.enqueue(step_a.s(i).then(step_b).then(step_c))

    def bulk_enqueue(self, n: int) -> None:
        for _ in range(n):
            noop()

    def teardown(self) -> None:
        self._teardown_signals()


def create_runner() -> HueyRunner:
    return HueyRunner()
