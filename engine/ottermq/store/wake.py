"""Blocking wake-ups for idle consumers: a pub/sub subscription to the queues' wake channels.

Every script that makes work ready publishes the shard number on ``<prefix>:wake:<queue>``.
The subscription is confirmed before the listener is returned, and messages that arrive
while the consumer is busy stay buffered on the connection, so the pattern

    listener = store.wake_listener(queues)
    while True:
        lease = store.lease(queues, n, worker=w)
        if not lease.tasks:
            listener.wait(timeout)      # returns at once if anything was published meanwhile

never misses work published between a lease that found nothing and the wait.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import redis

from ottermq.errors import StoreUnavailable

__all__ = ["WakeListener"]

SUBSCRIBE_TIMEOUT_S = 5.0


class WakeListener:
    def __init__(self, client: Any, channels: Sequence[str]) -> None:
        self._pubsub = client.pubsub()
        self._pubsub.subscribe(*channels)
        self._confirm(len(channels))

    def _confirm(self, expected: int) -> None:
        confirmed = 0
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
        while confirmed < expected:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreUnavailable("no confirmation of the wake-up subscription", "wake subscribe")
            message = self._pubsub.get_message(timeout=left)
            if message and message.get("type") == "subscribe":
                confirmed += 1

    def wait(self, timeout_s: float) -> frozenset[int]:
        """Block until a wake-up or ``timeout_s``; returns the shards that announced work."""
        shards: set[int] = set()
        deadline = time.monotonic() + max(timeout_s, 0.0)
        try:
            # get_message may return None early (a health check, a cluster node switch): wait on.
            message = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=max(timeout_s, 0.0))
            while message is None and (left := deadline - time.monotonic()) > 0:
                message = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            while message is not None:
                if message.get("type") == "message":
                    shards.add(int(message["data"]))
                message = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.0)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"Redis unreachable: {exc}", "wake wait") from None
        return frozenset(shards)

    def close(self) -> None:
        self._pubsub.close()

    def __enter__(self) -> WakeListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
