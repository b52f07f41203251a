"""The worker's small periodic loops: the lease extender and the reaper (with the periodic summary).

Each has a ``tick()`` that does one pass, so tests drive them directly.
"""

from __future__ import annotations

import logging
import threading
import time

from ottermq.store.redis_store import RedisStore
from ottermq.worker.inflight import InFlight
from ottermq.worker.retry import GaveUp, StoreRetry
from ottermq.worker.writer import WorkerStats

__all__ = ["Extender", "Reaper", "EXTEND_CHECK_S", "SUMMARY_EVERY_S"]

log = logging.getLogger("ottermq.worker")

EXTEND_CHECK_S = 0.1
SUMMARY_EVERY_S = 10.0
REAP_MIN_S = 0.05
REAP_MAX_S = 1.0


class Extender:
    """Extends each held lease once half of it has passed (a lease lasts the task's timeout)."""

    def __init__(self, store: RedisStore, inflight: InFlight, retry: StoreRetry, give_up: threading.Event) -> None:
        self._store = store
        self._inflight = inflight
        self._retry = retry
        self._give_up = give_up

    def run(self, closing: threading.Event) -> None:
        while not closing.wait(EXTEND_CHECK_S):
            try:
                self.tick()
            except GaveUp:
                return
            except Exception:  # noqa: BLE001 - a bug must not stop the extender: leases would expire
                log.exception("internal error extending leases")

    def tick(self) -> int:
        """Extend the leases that are due; returns how many were due."""
        due = self._inflight.due_for_extension(self._store.clock.now_ms())
        if not due:
            return 0
        refs = [t.ref for t in due]
        results = self._retry.call(lambda: self._store.extend(refs), self._give_up)
        for task, status in self._inflight.extended(due, results):
            # The handler finishes, but the store will refuse its result.
            log.info("task %s: lease %s; its result will be discarded", task.unit_id, status)
        return len(due)


class Reaper:
    """Takes back expired leases of any worker, waking when the earliest lease can expire.

    Also logs the periodic throughput summary, when something happened since the last one.
    """

    def __init__(self, store: RedisStore, stats: WorkerStats, inflight: InFlight, retry: StoreRetry,
                 name: str) -> None:
        self._store = store
        self._stats = stats
        self._inflight = inflight
        self._retry = retry
        self._name = name
        self._last_summary = time.monotonic()
        self._summarised = (0, 0, 0)
        self.reaped = 0

    def run(self, stopping: threading.Event) -> None:
        wait = REAP_MIN_S
        while not stopping.wait(wait):
            try:
                wait = self.tick(stopping)
            except GaveUp:
                return
            except Exception:  # noqa: BLE001 - a bug must not stop the reaper
                log.exception("internal error reaping expired leases")
                wait = REAP_MAX_S
            if time.monotonic() - self._last_summary >= SUMMARY_EVERY_S:
                self.summary()

    def tick(self, give_up: threading.Event) -> float:
        """Reap once; returns how long to wait before the next pass (until the next deadline, bounded)."""
        result = self._retry.call(self._store.reap, give_up)
        self.reaped += result.reaped
        if result.reaped:
            log.info("%s: took back %d expired lease(s)", self._name, result.reaped)
        if result.next_deadline_ms is None:
            return REAP_MAX_S
        left = (result.next_deadline_ms - self._store.clock.now_ms()) / 1000 + 0.005
        return min(max(left, REAP_MIN_S), REAP_MAX_S)

    def summary(self, *, final: bool = False) -> None:
        self._last_summary = time.monotonic()
        s = self._stats
        counts = (s.succeeded, s.retried, s.dead)
        if counts == self._summarised and not final:
            return  # nothing happened: keep an idle worker's log quiet
        self._summarised = counts
        elapsed = max(time.monotonic() - s.started_at, 1e-9)
        log.info("%s: %s%d succeeded (%.0f/s), %d retried, %d dead-lettered, %d lost, %d running",
                 self._name, "stopped: " if final else "", s.succeeded, s.succeeded / elapsed, s.retried, s.dead,
                 s.lost, self._inflight.count())
