"""Shared plumbing for the peer runners: completion signals and an event loop for async clients."""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

from peers.errors import SetupError
from peers.signals import SignalReader

__all__ = ["AsyncBridge", "SignalRunner", "gather_in_chunks", "installed_version"]

T = TypeVar("T")


def installed_version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class SignalRunner:
    """Implements ``completed`` and ``latency_roundtrip`` on top of :mod:`peers.signals`.

    A subclass enqueues its ``ping`` task in :meth:`enqueue_ping`; the round
    trip then waits on the benchmark's own list, not on the framework's result
    API, so no framework is timed through its result-polling interval.
    """

    def __init__(self) -> None:
        self._reader: SignalReader | None = None
        self._url = ""
        self._log_dir = Path(".")

    def _setup_signals(self, redis_url: str, log_dir: Path) -> None:
        self._url = redis_url
        self._log_dir = log_dir
        self._reader = SignalReader(redis_url)

    @property
    def reader(self) -> SignalReader:
        if self._reader is None:
            raise SetupError("runner used before setup()")
        return self._reader

    def enqueue_ping(self) -> None:
        raise NotImplementedError  # each peer enqueues its own ping task

    def completed(self) -> int:
        return self.reader.completed()

    def latency_roundtrip(self, timeout_s: float) -> None:
        self.enqueue_ping()
        self.reader.wait_ping(timeout_s)

    def _teardown_signals(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class AsyncBridge:
    """One event loop, kept for the runner's lifetime, to drive an asyncio client from sync code.

    Reusing the loop keeps the client's connections (which are bound to a
    loop) alive between calls, so each call costs one loop iteration, not a
    reconnect.
    """

    def __init__(self) -> None:
        self._runner = asyncio.Runner()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coro)

    def close(self) -> None:
        try:
            self._runner.close()
        except (RuntimeError, OSError):
            pass  # a loop interrupted by a timeout may refuse to close cleanly


async def gather_in_chunks(calls: Iterable[Callable[[], Awaitable[Any]]], chunk: int) -> None:
    """Await ``calls`` ``chunk`` at a time: overlaps round trips without opening thousands of connections."""
    batch: list[Awaitable[Any]] = []
    for call in calls:
        batch.append(call())
        if len(batch) >= chunk:
            await asyncio.gather(*batch)
            batch = []
    if batch:
        await asyncio.gather(*batch)
