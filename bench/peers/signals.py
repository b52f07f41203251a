"""Completion signals shared by every peer's tasks and read by the driver.

Every peer's final task step does exactly one Redis command through the
benchmark's own connection, so detecting completion costs each peer the same
one round trip per task and never depends on a framework's result polling
interval:

* ``done()`` INCRs a counter: the driver polls it every 10 ms (drain, chains).
* ``ping()`` RPUSHes onto a list: the driver BLPOPs it, so it wakes as soon as
  the task has run (latency).

Worker processes are started by each framework's own CLI, which imports the
peer module by name: the server URL reaches them in the environment variable
``BENCH_REDIS_URL``, and the connection is created lazily in the process (or
event loop) that runs the task, after any fork.
"""

from __future__ import annotations

import asyncio
import functools
import os

import redis
import redis.asyncio

from peers.errors import PeerTimeout, SetupError

__all__ = [
    "DONE_KEY",
    "PING_KEY",
    "URL_ENV",
    "SignalReader",
    "done",
    "done_async",
    "ping",
    "ping_async",
    "redis_url",
]

URL_ENV = "BENCH_REDIS_URL"
DONE_KEY = "bench:signal:done"
PING_KEY = "bench:signal:ping"


def redis_url() -> str:
    """The benchmark server's URL, as the driver exported it to this process."""
    url = os.environ.get(URL_ENV)
    if not url:
        raise SetupError(f"{URL_ENV} is not set: peer modules are imported by the benchmark driver or its workers only")
    return url


# One connection per process (tasks are module-level functions that frameworks
# import by name, so there is no object to hang it on); created on first use,
# which happens after the worker CLIs fork.
@functools.cache
def _client(url: str, pid: int) -> redis.Redis:
    return redis.Redis.from_url(url)


# Async connections belong to the event loop they were first used in.
@functools.cache
def _async_client(url: str, pid: int, loop_id: int) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(url)


def _sync() -> redis.Redis:
    return _client(redis_url(), os.getpid())


def _async() -> redis.asyncio.Redis:
    return _async_client(redis_url(), os.getpid(), id(asyncio.get_running_loop()))


def done() -> None:
    """Count one finished unit of work (a no-op task, or the last step of a chain)."""
    _sync().incr(DONE_KEY)


def ping() -> None:
    """Wake the driver waiting in :meth:`SignalReader.wait_ping`."""
    _sync().rpush(PING_KEY, b"1")


async def done_async() -> None:
    await _async().incr(DONE_KEY)


async def ping_async() -> None:
    await _async().rpush(PING_KEY, b"1")


class SignalReader:
    """The driver's side: reads the counter and waits for pings."""

    def __init__(self, url: str) -> None:
        self._conn = redis.Redis.from_url(url)

    def completed(self) -> int:
        value = self._conn.get(DONE_KEY)
        return int(value) if value is not None else 0

    def wait_ping(self, timeout_s: float) -> None:
        if self._conn.blpop([PING_KEY], timeout=timeout_s) is None:
            raise PeerTimeout(f"no completion signal within {timeout_s:g} s")

    def close(self) -> None:
        self._conn.close()
