"""The four workloads; each function measures one repetition on a flushed server."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from peers.errors import PeerTimeout
from peers.interface import Runner
from peers.timing import percentile
from peers.workers import WorkerGroup

__all__ = ["CommandCounter", "Sizes", "bulk", "chains", "drain", "latency"]

# The server's total_commands_processed. Redis commands per task is a figure the
# load of a shared machine does not move, unlike every rate here.
CommandCounter = Callable[[], int]

POLL_INTERVAL_S = 0.01
ROUNDTRIP_TIMEOUT_S = 5.0
# The first round trip waits for the worker to import its framework and connect.
FIRST_ROUNDTRIP_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much work one repetition of each workload does."""

    drain_tasks: int = 10_000
    latency_warmup: int = 50
    latency_iterations: int = 500
    chains: int = 1_000
    bulk_tasks: int = 10_000

    @classmethod
    def quick(cls) -> Sizes:
        return cls(drain_tasks=1_000, latency_warmup=10, latency_iterations=100, chains=200, bulk_tasks=1_000)


def _wait_completed(runner: Runner, group: WorkerGroup, target: int, started: float, timeout_s: float) -> dict[str, float]:
    """Poll ``completed()`` every 10 ms until ``target``; report total and steady-state rates."""
    first_at: float | None = None
    first_count = 0
    polls = 0
    while True:
        count = runner.completed()
        polls += 1
        now = time.perf_counter()
        if count and first_at is None:
            first_at, first_count = now, count
        if count >= target:
            break
        if now - started > timeout_s:
            raise PeerTimeout(f"{count}/{target} done after {timeout_s:g} s")
        group.check_alive()
        time.sleep(POLL_INTERVAL_S)
    elapsed = now - started
    if first_at is None:  # only when target is 0
        first_at, first_count = now, count
    steady_window = now - first_at
    return {
        "rate": target / elapsed,
        # From the first completion seen: without the workers' start-up (interpreter, imports,
        # connect). Meaningful for drain only: a chain's first C completes late, after most As.
        "steady_rate": (target - first_count) / steady_window if steady_window > 0 else target / elapsed,
        "startup_s": first_at - started,
        "elapsed_s": elapsed,
        "polls": polls,
    }


def _commands_between(before: int, after: int, own_commands: int, units: int) -> float:
    """Commands per unit of work, without the driver's own: its polls, and the INFO that read ``before``."""
    return (after - before - own_commands - 1) / units


def drain(runner: Runner, commands: CommandCounter, tasks: int, processes: int, timeout_s: float) -> dict[str, float]:
    """Pre-enqueue ``tasks`` no-ops, start the workers, time until the last one has run."""
    runner.enqueue_noop(tasks)
    before = commands()
    started = time.perf_counter()
    with runner.start_workers(processes) as group:
        measured = _wait_completed(runner, group, tasks, started, timeout_s)
        after = commands()
    polls = int(measured.pop("polls"))
    return {**measured, "commands_per_task": _commands_between(before, after, polls, tasks)}


def chains(runner: Runner, commands: CommandCounter, count: int, processes: int, timeout_s: float) -> dict[str, float]:
    """Pre-enqueue ``count`` A -> B -> C chains, start the workers, time until the last C has run."""
    runner.enqueue_chains(count)
    before = commands()
    started = time.perf_counter()
    with runner.start_workers(processes) as group:
        measured = _wait_completed(runner, group, count, started, timeout_s)
        after = commands()
    return {
        "rate": measured["rate"],
        "elapsed_s": measured["elapsed_s"],
        "commands_per_chain": _commands_between(before, after, int(measured["polls"]), count),
    }


def latency(runner: Runner, commands: CommandCounter, warmup: int, iterations: int) -> dict[str, float]:
    """One task at a time against one idle, already running worker; end-to-end milliseconds."""
    with runner.start_workers(1) as group:
        try:
            runner.latency_roundtrip(FIRST_ROUNDTRIP_TIMEOUT_S)
            for _ in range(max(warmup - 1, 0)):
                runner.latency_roundtrip(ROUNDTRIP_TIMEOUT_S)
            samples: list[float] = []
            before = commands()
            for _ in range(iterations):
                started = time.perf_counter()
                runner.latency_roundtrip(ROUNDTRIP_TIMEOUT_S)
                samples.append((time.perf_counter() - started) * 1000.0)
            after = commands()
        except PeerTimeout:
            group.check_alive()  # a dead worker is the better explanation
            raise
    return {
        "p50_ms": percentile(samples, 50),
        "p99_ms": percentile(samples, 99),
        "mean_ms": sum(samples) / len(samples),
        "max_ms": max(samples),
        # Includes the driver's wait (one BLPOP per round trip for signal-based runners)
        # and whatever an idle worker polls meanwhile.
        "commands_per_roundtrip": _commands_between(before, after, 0, iterations),
    }


def bulk(runner: Runner, commands: CommandCounter, tasks: int) -> dict[str, float]:
    """Client side only: enqueue ``tasks`` no-ops as fast as the API allows, no workers."""
    before = commands()
    started = time.perf_counter()
    runner.bulk_enqueue(tasks)
    elapsed = time.perf_counter() - started
    after = commands()
    return {"rate": tasks / elapsed, "elapsed_s": elapsed, "commands_per_task": _commands_between(before, after, 0, tasks)}
