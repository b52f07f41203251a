"""Store calls that ride out a Redis outage: retry with backoff, say so once, give up on request.

Every loop of a worker goes through one ``StoreRetry``, so an outage is logged once when it
starts and once when it ends, however many threads are waiting on it. Each call names the
event that makes it stop trying (the fetcher gives up when the worker stops, the writer only
when the grace period is over); giving up raises ``GaveUp``, which never leaves the worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ottermq.errors import StoreUnavailable

__all__ = ["GaveUp", "StoreRetry"]

log = logging.getLogger("ottermq.worker")

_T = TypeVar("_T")

FIRST_DELAY_S = 0.05
MAX_DELAY_S = 2.0


class GaveUp(Exception):  # noqa: N818 - a control-flow signal inside the worker, not an error
    """The store stayed unreachable until the caller's give-up event was set."""


class StoreRetry:
    def __init__(self, name: str, *, first_delay_s: float = FIRST_DELAY_S, max_delay_s: float = MAX_DELAY_S) -> None:
        self._name = name
        self._first = first_delay_s
        self._max = max_delay_s
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self.outages = 0

    @property
    def down(self) -> bool:
        with self._lock:
            return self._down_since is not None

    def call(self, fn: Callable[[], _T], give_up: threading.Event) -> _T:
        """``fn()``, retried with exponential backoff while it raises StoreUnavailable."""
        delay = self._first
        while True:
            try:
                result = fn()
            except StoreUnavailable as exc:
                self._failed(exc)
                if give_up.wait(delay):
                    raise GaveUp(str(exc)) from None
                delay = min(delay * 2, self._max)
                continue
            self._succeeded()
            return result

    def _failed(self, exc: StoreUnavailable) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = time.monotonic()
                self.outages += 1
        if first:
            log.warning("%s: store unavailable (%s); retrying until it is back", self._name, exc)
        else:
            log.debug("%s: store still unavailable (%s)", self._name, exc)

    def _succeeded(self) -> None:
        with self._lock:
            since, self._down_since = self._down_since, None
        if since is not None:
            log.info("%s: store reachable again after %.1fs", self._name, time.monotonic() - since)
