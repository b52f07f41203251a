"""The contract between the benchmark driver and one peer (see ``peers/__init__.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from peers.workers import WorkerGroup

__all__ = ["PeerConfig", "Runner"]


@dataclass(frozen=True, slots=True)
class PeerConfig:
    """How a peer is set up, for the JSON report and docs/benchmarks.md."""

    name: str
    package: str
    version: str
    broker: str
    worker: str
    delivery: str
    chaining: str
    bulk: str
    notes: str = ""


@runtime_checkable
class Runner(Protocol):
    """One peer. The driver calls, per workload: ``setup``, the workload's methods, ``teardown``.

    Between two repetitions the driver kills every worker and FLUSHALLs the
    server, so a method never sees state left by the previous repetition.
    """

    name: str

    def setup(self, redis_url: str, log_dir: Path) -> None:
        """Connect the client side to ``redis_url``; worker logs go to ``log_dir``."""

    def describe(self) -> PeerConfig:
        """The configuration used, with the library's installed version."""

    def enqueue_noop(self, n: int) -> None:
        """Enqueue ``n`` no-op tasks, each signalling ``done`` when it has run."""

    def start_workers(self, processes: int) -> WorkerGroup:
        """Start ``processes`` worker processes (concurrency 1 each) and return at once."""

    def completed(self) -> int:
        """How many no-op tasks or chain ends have finished since the last flush."""

    def latency_roundtrip(self, timeout_s: float) -> None:
        """Enqueue one task and return once it has run (raise PeerTimeout after ``timeout_s``)."""

    def enqueue_chains(self, n: int) -> None:
        """Enqueue ``n`` chains A -> B -> C whose C step signals ``done``."""

    def bulk_enqueue(self, n: int) -> None:
        """Enqueue ``n`` no-op tasks as fast as the client API allows (timed by the driver)."""

    def teardown(self) -> None:
        """Close client connections and event loops; must not raise."""
