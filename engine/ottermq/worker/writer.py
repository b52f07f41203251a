"""The writer loop: completions go back to the store in batches, one script call per kind.

Executor threads put completions on a queue; each tick takes whatever has accumulated
(up to WRITE_BATCH), so under load the batches grow by themselves and when idle a single
completion is written at once. A completion leaves the in-flight table only after its
write, so the extender keeps its lease alive while an outage holds the write back. A write
the store refuses for good (a bug) is logged and dropped: the lease then expires and the
reaper gives the task to another attempt, so nothing is lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from ottermq.errors import LeaseLost, OtterError, QueueFull
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, AckStatus, FailStatus, Failure
from ottermq.worker.execute import Completion, Executor
from ottermq.worker.inflight import InFlight
from ottermq.worker.outcome import Complete, DeadLetter, Retry
from ottermq.worker.retry import GaveUp, StoreRetry

__all__ = ["WorkerStats", "Writer", "WRITE_BATCH"]

log = logging.getLogger("ottermq.worker")

WRITE_BATCH = 256
_SUCCEEDED = frozenset({AckStatus.DONE, AckStatus.DUPLICATE})  # duplicate: our own ack landed, its reply was lost


@dataclass(slots=True)
class WorkerStats:
    succeeded: int = 0
    retried: int = 0
    dead: int = 0
    expanded: int = 0
    # Results the store refused: the lease had expired (the task was taken back) or the run was cancelled.
    lost: int = 0
    # Running when the grace period ended: their leases expire and they run again elsewhere.
    abandoned: int = 0
    started_at: float = field(default_factory=time.monotonic)


class Writer:
    def __init__(self, store: RedisStore, executor: Executor, inflight: InFlight, retry: StoreRetry,
                 stats: WorkerStats, give_up: threading.Event) -> None:
        self._store = store
        self._executor = executor
        self._inflight = inflight
        self._retry = retry
        self._give_up = give_up
        self.stats = stats
        self.done: queue.Queue[Completion] = queue.Queue()

    def run(self, closing: threading.Event) -> None:
        while not closing.is_set():
            self.tick(timeout_s=0.1)
        while self.tick(timeout_s=0) and not self._give_up.is_set():
            pass

    def tick(self, timeout_s: float) -> int:
        """Write one batch of completions (waiting up to ``timeout_s`` for the first); returns its size."""
        try:
            batch = [self.done.get(timeout=timeout_s) if timeout_s > 0 else self.done.get_nowait()]
        except queue.Empty:
            return 0
        while len(batch) < WRITE_BATCH:
            try:
                batch.append(self.done.get_nowait())
            except queue.Empty:
                break
        try:
            self._write(batch)
        except GaveUp:
            log.warning("gave up writing %d results (the store is unavailable); their tasks will run again", len(batch))
        except OtterError as exc:
            log.error("could not write %d results (%s); their tasks will run again after their leases expire",
                      len(batch), exc)
        except Exception:  # noqa: BLE001 - a bug must not stop the writer: every later result would be lost
            log.exception("internal error writing %d results; their tasks will run again after their leases expire",
                          len(batch))
        finally:
            self._inflight.remove(c.task for c in batch)
        return len(batch)

    def _write(self, batch: list[Completion]) -> None:
        failures = [c for c in batch if isinstance(c.decision, (Retry, DeadLetter))]
        for completion in batch:
            if completion.decision is None:
                refused = self._expand(completion)
                if refused is not None:
                    failures.append(refused)
        acks = [c for c in batch if isinstance(c.decision, Complete)]
        if acks:
            self._ack(acks)
        if failures:
            self._fail(failures)

    def _ack(self, completions: list[Completion]) -> None:
        acks = [Ack(c.task.unit_id, c.task.token, c.decision.output) for c in completions
                if isinstance(c.decision, Complete)]
        for result in self._retry.call(lambda: self._store.ack(acks), self._give_up):
            if result.status in _SUCCEEDED:
                self.stats.succeeded += 1
            elif result.status == AckStatus.WRONG_KIND:
                log.error("task %s: the store refused its result (%s)", result.unit_id, result.status)
            else:
                self.stats.lost += 1
                log.info("task %s: result discarded (%s)", result.unit_id, result.status)

    def _fail(self, completions: list[Completion]) -> None:
        failures = [_failure(c) for c in completions]
        results = self._retry.call(lambda: self._store.fail(failures), self._give_up)
        for completion, result in zip(completions, results, strict=True):
            self._log_failure(completion, result.status)

    def _expand(self, completion: Completion) -> Completion | None:
        """Expand a fan-out task; a full queue makes it a failure of the task (returned to be written)."""
        task = completion.task
        try:
            self._retry.call(lambda: self._store.expand(task.ref, completion.items), self._give_up)
        except LeaseLost as exc:  # and RunCancelled
            self.stats.lost += 1
            log.info("task %s: expansion discarded (%s)", task.unit_id, exc)
            return None
        except QueueFull as exc:
            # Back-pressure from a `reject` queue: retried with backoff like an error, in case it drains.
            return self._executor.refused(task, "error", str(exc))
        self.stats.expanded += 1
        return None

    def _log_failure(self, completion: Completion, status: FailStatus) -> None:
        decision = completion.decision
        task = completion.task
        if not isinstance(decision, (Retry, DeadLetter)):
            return
        where = f"{task.pipeline}/{task.task}" + (f"[{task.item}]" if task.item is not None else "")
        if status == FailStatus.RETRIED and isinstance(decision, Retry):
            self.stats.retried += 1
            log.warning("%s run %s attempt %d failed (%s: %s); retry in %d ms", where, task.run_id, task.attempt,
                        decision.kind, decision.message, decision.delay_ms)
        elif status == FailStatus.DEAD:
            self.stats.dead += 1
            reason = decision.reason if isinstance(decision, DeadLetter) else "exhausted"
            log.error("%s run %s attempt %d dead-lettered (%s; %s: %s)", where, task.run_id, task.attempt, reason,
                      decision.kind, decision.message)
        else:
            self.stats.lost += 1
            log.info("task %s: failure discarded (%s)", task.unit_id, status)


def _failure(completion: Completion) -> Failure:
    decision = completion.decision
    assert isinstance(decision, (Retry, DeadLetter))
    delay = decision.delay_ms if isinstance(decision, Retry) else None
    return Failure(completion.task.unit_id, completion.task.token, decision.kind, decision.message, delay)
