"""One worker process: a fetcher leasing in batches, executor threads, and small loops.

The fetcher leases exactly as many tasks as there are free executor slots, so nothing
leased waits behind other work. Completions are written back in batches by the writer
(writer.py); leases of running tasks are extended by the extender and expired leases
anywhere are taken back by the reaper (maintenance.py). When there is nothing to lease,
the fetcher blocks on the store's wake-up subscription, never on a sleep.

With ``burst``, the worker returns once its queues have nothing ready or delayed and no
task of theirs is leased, by it or by anyone else (another worker's result, or its expired
lease, can still make work here). For a composite queue only its ready and delayed tasks
count: tasks of its members leased by other workers are not seen.

Shutdown (``stop()``, on SIGTERM): leasing stops; running tasks finish within the grace
period and their results are written; then the worker returns. Tasks still running, or
whose results could not be written (Redis unreachable), when the grace period ends (or on
a second ``stop()``) are abandoned: their leases are no longer extended, so they expire
and the tasks run again elsewhere. Nothing is lost, and only those tasks can run twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ottermq.errors import OtterError, StoreUnavailable
from ottermq.store.inspect import Inspector
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Lease, LeasedTask
from ottermq.store.wake import WakeListener
from ottermq.worker.execute import Completion, Executor
from ottermq.worker.inflight import InFlight, Slots
from ottermq.worker.maintenance import Extender, Reaper
from ottermq.worker.retry import GaveUp, StoreRetry
from ottermq.worker.writer import WorkerStats, Writer

__all__ = ["Worker", "WorkerStats"]

log = logging.getLogger("ottermq.worker")

IDLE_WAIT_S = 1.0
SLOT_WAIT_S = 0.5


class Worker:
    def __init__(
        self,
        store: RedisStore,
        executor: Executor,
        queues: Sequence[str],
        *,
        concurrency: int = 4,
        name: str = "worker",
        burst: bool = False,
    ) -> None:
        self._store = store
        self._executor = executor
        self._queues = list(queues)
        self._name = name
        self._burst = burst
        self._inspector = Inspector(store)
        concurrency = max(1, concurrency)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix=f"{name}-exec")
        self._slots = Slots(concurrency)
        self._inflight = InFlight()
        self._stopping = threading.Event()  # stop leasing
        self._abandon = threading.Event()  # the grace period is over: give up running tasks and their writes
        self._closing = threading.Event()  # the loops end
        self.retry = StoreRetry(name)
        self.stats = WorkerStats()
        self.writer = Writer(store, executor, self._inflight, self.retry, self.stats, self._abandon)
        self.extender = Extender(store, self._inflight, self.retry, self._abandon)
        self.reaper = Reaper(store, self.stats, self._inflight, self.retry, name)

    # --- lifecycle ------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop leasing; running tasks finish and are written back. A second call abandons them."""
        if self._stopping.is_set():
            self.abandon()
            return
        self._stopping.set()
        self._slots.interrupt()

    def abandon(self) -> None:
        """End the grace period now: running tasks are left to expire and run again elsewhere."""
        self._stopping.set()
        self._abandon.set()
        self._inflight.wake()
        self._slots.interrupt()

    @property
    def running(self) -> int:
        """Leased tasks not yet written back."""
        return self._inflight.count()

    def run(self, *, grace_s: float = 30.0) -> WorkerStats:
        loops = [
            threading.Thread(target=self.writer.run, args=(self._closing,), name=f"{self._name}-writer"),
            threading.Thread(target=self.extender.run, args=(self._closing,), name=f"{self._name}-extender"),
            threading.Thread(target=self.reaper.run, args=(self._stopping,), name=f"{self._name}-reaper"),
        ]
        for thread in loops:
            thread.start()
        try:
            self._fetch_loop()
        finally:
            self._stopping.set()
            self._finish(grace_s)
            self._closing.set()
            for thread in loops:
                thread.join()
            self._pool.shutdown(wait=not self._abandon.is_set(), cancel_futures=True)
            self.reaper.summary(final=True)
        return self.stats

    def _finish(self, grace_s: float) -> None:
        """Let running tasks finish and be written back, within the grace period."""
        if self._inflight.count():
            log.info("%s: waiting for %d running task(s) (grace %gs)", self._name, self._inflight.count(), grace_s)
        if self._inflight.wait_empty(grace_s, self._abandon):
            return
        self._abandon.set()
        left = self._inflight.tasks()
        self.stats.abandoned = len(left)
        if left:
            log.warning("%s: abandoning %d running task(s) (%s); they run again once their leases expire",
                        self._name, len(left), ", ".join(t.unit_id for t in left[:5]) + (", ..." if len(left) > 5 else ""))

    # --- fetcher --------------------------------------------------------------------------

    def _fetch_loop(self) -> None:
        listener: WakeListener | None = None
        try:
            while not self._stopping.is_set():
                if listener is None:
                    listener = self.retry.call(lambda: self._store.wake_listener(self._queues), self._stopping)
                free = self._slots.take_all(SLOT_WAIT_S)
                if free == 0:
                    continue
                # Nothing held means every earlier result is written: a lease now sees the tasks they made ready.
                idle = self._inflight.count() == 0
                lease = self._lease(free)
                if lease.tasks:
                    self._dispatch(lease.tasks)
                    continue
                if self._burst and idle and lease.wake_at_ms is None and not self._leased_elsewhere():
                    log.info("%s: no work left", self._name)
                    return
                if not self._idle_wait(listener, lease.wake_at_ms):
                    with contextlib.suppress(Exception):  # best effort: its connection is already broken
                        listener.close()
                    listener = None
        except GaveUp:
            return  # stopping while the store was unreachable
        finally:
            if listener is not None:
                listener.close()

    def _lease(self, free: int) -> Lease:
        try:
            lease = self.retry.call(lambda: self._store.lease(self._queues, free, worker=self._name), self._stopping)
        except BaseException:
            self._slots.give(free)
            raise
        self._slots.give(free - len(lease.tasks))
        return lease

    def _leased_elsewhere(self) -> bool:
        """Whether other workers hold tasks of our queues: their results (or, if they died, their
        expired leases) can still make work for us, so a burst does not end yet."""
        stats = self.retry.call(lambda: [self._inspector.queue_stats(q) for q in self._queues], self._stopping)
        return any(s.in_flight > 0 for s in stats)

    def _idle_wait(self, listener: WakeListener, wake_at_ms: int | None) -> bool:
        """Sleep until a wake-up, the next due time or IDLE_WAIT_S; False when the subscription broke."""
        wait = IDLE_WAIT_S
        if wake_at_ms is not None:
            wait = min(wait, max(0.0, (wake_at_ms - self._store.clock.now_ms()) / 1000))
        try:
            listener.wait(wait)
        except StoreUnavailable as exc:
            log.info("%s: wake-up subscription lost (%s); subscribing again", self._name, exc)
            return False
        return True

    def _dispatch(self, tasks: Sequence[LeasedTask]) -> None:
        self._inflight.add(tasks, self._store.clock.now_ms())
        groups: dict[tuple[str, str], list[LeasedTask]] = defaultdict(list)
        sizes: dict[tuple[str, str], int] = {}
        for task in tasks:
            size = 1 if task.expand else self._batch_size(task)
            if size > 1:
                groups[(task.plan_hash, task.task)].append(task)
                sizes[(task.plan_hash, task.task)] = size
            else:
                self._pool.submit(self._run_one, task)
        for key, group in groups.items():
            size = sizes[key]
            for start in range(0, len(group), size):
                chunk = group[start : start + size]
                self._pool.submit(self._run_group, chunk)
                # One executor runs the whole chunk: give back the slots the others would have used.
                self._slots.give(len(chunk) - 1)

    def _batch_size(self, task: LeasedTask) -> int:
        try:
            return self.retry.call(lambda: self._executor.batch_size(task), self._abandon)
        except (OtterError, GaveUp):
            return 1  # the task fails with the reason when it runs (or is abandoned)

    # --- executor threads -----------------------------------------------------------------

    def _run_one(self, task: LeasedTask) -> None:
        try:
            completions = [self.retry.call(lambda: self._executor.run(task), self._abandon)]
        except GaveUp:
            completions = []  # abandoned while the store was unreachable: the lease expires
        except Exception as exc:  # noqa: BLE001 - a bug must not leave the task leased forever
            log.exception("internal error running %s", task.unit_id)
            completions = [self._executor.internal_failure(task, exc)]
        self._complete(completions, 1)

    def _run_group(self, tasks: list[LeasedTask]) -> None:
        try:
            completions = self.retry.call(lambda: self._executor.run_batch(tasks), self._abandon)
        except GaveUp:
            completions = []
        except Exception as exc:  # noqa: BLE001 - a bug must not leave the tasks leased forever
            log.exception("internal error running a batch of %s", tasks[0].task)
            completions = [self._executor.internal_failure(task, exc) for task in tasks]
        self._complete(completions, 1)

    def _complete(self, completions: list[Completion], slots: int) -> None:
        for completion in completions:
            self.writer.done.put(completion)
        self._slots.give(slots)
