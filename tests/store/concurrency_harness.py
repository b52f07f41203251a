"""Drive many consumer processes against one store and check delivery from their logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from store_helpers import blueprint, task

from ottermq import keys
from ottermq.store.blueprint import RunBlueprint
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import RunRequest

CONSUMER = Path(__file__).with_name("store_consumer.py")


def diamond() -> RunBlueprint:
    """Four tasks per run: a -> (b, c) -> d."""
    return blueprint([task("a"), task("b", needs=["a"]), task("c", needs=["a"]), task("d", needs=["b", "c"])], pipeline="conc")


@dataclass
class Consumer:
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Fleet:
    url: str
    shards: int
    workdir: Path
    lease_ms: int = 30_000
    batch: int = 50
    work_ms: int = 0
    consumers: list[Consumer] = field(default_factory=list)

    @property
    def stopfile(self) -> Path:
        return self.workdir / "stop"

    def start(self, count: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CONSUMER.parent), os.environ.get("PYTHONPATH", "")])}
        for i in range(count):
            log = self.workdir / f"consumer-{len(self.consumers)}-{i}.log"
            argv = [
                sys.executable,
                str(CONSUMER),
                self.url,
                str(self.shards),
                str(self.lease_ms),
                str(self.batch),
                str(self.work_ms),
                str(log),
                str(self.stopfile),
            ]
            self.consumers.append(Consumer(subprocess.Popen(argv, env=env), log))

    def kill(self, index: int) -> None:
        self.consumers[index].process.send_signal(signal.SIGKILL)
        self.consumers[index].process.wait(10)

    def stop(self, timeout: float = 60.0) -> None:
        self.stopfile.touch()
        deadline = time.monotonic() + timeout
        for consumer in self.consumers:
            consumer.process.wait(max(deadline - time.monotonic(), 0.1))
            assert consumer.process.returncode in (0, -signal.SIGKILL), consumer.process.returncode

    def terminate(self) -> None:
        for consumer in self.consumers:
            if consumer.process.poll() is None:
                consumer.process.kill()
                consumer.process.wait(10)

    def logs(self) -> list[tuple[int, list[str]]]:
        return [(i, c.log.read_text().splitlines() if c.log.exists() else []) for i, c in enumerate(self.consumers)]


def create_runs(store: RedisStore, bp: RunBlueprint, count: int) -> list[str]:
    ids = [f"run{i:06d}" for i in range(count)]
    for start in range(0, count, 1000):
        store.create_runs(bp, [RunRequest(run_id=r) for r in ids[start : start + 1000]])
    return ids


def wait_all_finished(store: RedisStore, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = sum(store.client.zcard(keys.shard_runs_active(p)) for p in store.keyspace.shard_prefixes)
        if active == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"{active} runs still active after {timeout} s")


def run_states(store: RedisStore, run_ids: list[str]) -> Counter[str]:
    states: Counter[str] = Counter()
    for run_id in run_ids:
        states[store.client.hget(keys.run(store.keyspace.run_prefix(run_id), run_id), "state") or "missing"] += 1
    return states


@dataclass
class Delivery:
    done: Counter[str]
    leases: dict[str, list[tuple[int, int]]]  # unit -> [(consumer, attempt)]
    outages: int
    lost: set[str]  # units whose ack was refused: the lease had expired and moved on


def delivery(fleet: Fleet) -> Delivery:
    done: Counter[str] = Counter()
    leases: dict[str, list[tuple[int, int]]] = defaultdict(list)
    outages = 0
    duplicates: set[str] = set()
    lost: set[str] = set()
    for index, lines in fleet.logs():
        for line in lines:
            parts = line.split()
            if parts[0] == "L":
                leases[parts[1]].append((index, int(parts[2])))
            elif parts[0] == "A" and parts[2] == "done":
                done[parts[1]] += 1
            elif parts[0] == "A" and parts[2] == "duplicate":
                # The ack was applied but its reply was lost in an outage; the client's retry
                # of the same ack (same token) was answered "duplicate": still one ack.
                duplicates.add(parts[1])
            elif parts[0] == "A" and parts[2] == "lost":
                lost.add(parts[1])
            elif parts[0] == "U":
                outages += 1
    for unit in duplicates - set(done):
        done[unit] = 1
    return Delivery(done, dict(leases), outages, lost)
