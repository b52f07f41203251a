"""What a worker holds: its executor slots and the leases of the tasks it has taken.

A lease is known by (unit id, token), not by unit id alone: a unit whose lease expired
here may be leased again by this same worker, and the two leases must not be confused
(the old one's completion would otherwise drop the new one from the table, and it would
never be extended).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ottermq.errors import InternalError
from ottermq.store.types import ExtendResult, ExtendStatus, LeasedTask

__all__ = ["Held", "InFlight", "Slots"]

Key = tuple[str, str]


def key_of(task: LeasedTask) -> Key:
    return (task.unit_id, task.token)


@dataclass(slots=True)
class Held:
    task: LeasedTask
    # The lease's length when it was taken (the task's timeout): extended once half has passed.
    length_ms: int
    deadline_ms: int
    # The store said the lease is gone (expired and taken back, or the run cancelled):
    # the handler finishes, its result will be refused, the lease is not extended again.
    lost: bool = False


class InFlight:
    """Leased tasks from lease until their completion is written back (or given up)."""

    def __init__(self) -> None:
        self._held: dict[Key, Held] = {}
        self._cond = threading.Condition()

    def add(self, tasks: Iterable[LeasedTask], now_ms: int) -> None:
        with self._cond:
            for task in tasks:
                self._held[key_of(task)] = Held(task, max(task.deadline_ms - now_ms, 1), task.deadline_ms)

    def remove(self, tasks: Iterable[LeasedTask]) -> None:
        with self._cond:
            for task in tasks:
                self._held.pop(key_of(task), None)
            if not self._held:
                self._cond.notify_all()

    def count(self) -> int:
        with self._cond:
            return len(self._held)

    def tasks(self) -> list[LeasedTask]:
        with self._cond:
            return [h.task for h in self._held.values()]

    def wait_empty(self, timeout_s: float, interrupt: threading.Event) -> bool:
        """Block until nothing is held (True), or ``timeout_s`` passes or ``interrupt`` is set (False).

        Whoever sets ``interrupt`` calls ``wake()``, so the wait ends at once.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._held and not interrupt.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return not self._held

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def due_for_extension(self, now_ms: int) -> list[LeasedTask]:
        """Tasks whose lease has less than half of its length left."""
        with self._cond:
            return [h.task for h in self._held.values() if not h.lost and h.deadline_ms - now_ms < h.length_ms / 2]

    def extended(self, tasks: Sequence[LeasedTask], results: Sequence[ExtendResult]) -> list[tuple[LeasedTask, str]]:
        """Record extension results (in the order of ``tasks``); returns the leases found lost."""
        lost: list[tuple[LeasedTask, str]] = []
        with self._cond:
            for task, result in zip(tasks, results, strict=True):
                held = self._held.get(key_of(task))
                if held is None:
                    continue  # written back meanwhile
                if result.status == ExtendStatus.EXTENDED and result.deadline_ms is not None:
                    held.deadline_ms = result.deadline_ms
                elif not held.lost:
                    held.lost = True
                    lost.append((task, str(result.status)))
        return lost


class Slots:
    """Free executor slots. The fetcher takes every free slot at once and leases that many tasks."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._free = total
        self._cond = threading.Condition()

    def take_all(self, timeout_s: float) -> int:
        """Block until a slot is free (or ``timeout_s``, or ``interrupt()``); take every free slot."""
        with self._cond:
            if self._free == 0:
                self._cond.wait(timeout_s)
            taken, self._free = self._free, 0
            return taken

    def give(self, n: int) -> None:
        if n <= 0:
            return
        with self._cond:
            self._free += n
            if self._free > self.total:
                raise InternalError(f"executor slots over-released: {self._free} free of {self.total}")
            self._cond.notify_all()

    def free(self) -> int:
        with self._cond:
            return self._free

    def interrupt(self) -> None:
        with self._cond:
            self._cond.notify_all()
