"""A consumer process for the concurrency tests: lease, ack, reap, sleep on wake-ups.

Usage: python store_consumer.py URL SHARDS LEASE_MS BATCH WORK_MS LOG STOPFILE

Writes one line per event to LOG (flushed after every batch):
``L <unit> <attempt>`` for a lease, ``A <unit> <status>`` for an ack result, ``U`` for an
outage survived. Exits when STOPFILE exists and nothing is left to lease.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TextIO

import redis

from ottermq.clock import SystemClock
from ottermq.errors import StoreUnavailable
from ottermq.settings import Settings
from ottermq.store.connection import client_from_url
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, AckResult
from ottermq.store.wake import WakeListener


def main(argv: list[str]) -> int:
    url, shards, lease_ms, batch, work_ms, log_path, stopfile = argv
    settings = Settings(redis_url=url, shards=int(shards), lease_ms=int(lease_ms))
    store = connect(settings)
    name = f"consumer-{os.getpid()}"
    listener: WakeListener | None = None
    backoff = 0.05
    last_reap = 0.0
    with open(log_path, "a", encoding="utf-8") as log:
        while True:
            try:
                if listener is None:
                    listener = store.wake_listener(["q"])
                lease = store.lease(["q"], int(batch), worker=name)
                if lease.tasks:
                    log.write("".join(f"L {t.unit_id} {t.attempt}\n" for t in lease.tasks))
                    log.flush()
                    if int(work_ms):
                        time.sleep(int(work_ms) / 1000)
                    acks = [Ack(t.unit_id, t.token, json.dumps({"by": name, "task": t.task})) for t in lease.tasks]
                    results = ack_until_answered(store, acks, log)
                    log.write("".join(f"A {r.unit_id} {r.status}\n" for r in results))
                    log.flush()
                    backoff = 0.05
                    continue
                now = time.monotonic()
                if now - last_reap > 0.1:
                    store.reap()
                    last_reap = now
                if os.path.exists(stopfile):
                    return 0
                listener.wait(0.1)
            except StoreUnavailable:
                log.write("U\n")
                log.flush()
                if listener is not None:
                    try:
                        listener.close()
                    except redis.RedisError:  # the broken connection may fail to close; it is dropped anyway
                        pass
                listener = None
                time.sleep(backoff)
                backoff = min(backoff * 2, 1.0)


def ack_until_answered(store: RedisStore, acks: list[Ack], log: TextIO) -> list[AckResult]:
    """Acks are retried through an outage with the same tokens: an ack applied before the
    connection broke is answered "duplicate", so nothing is acknowledged twice or lost."""
    delay = 0.05
    while True:
        try:
            return store.ack(acks)
        except StoreUnavailable:
            log.write("U\n")
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def connect(settings: Settings) -> RedisStore:
    delay = 0.05
    while True:
        try:
            return RedisStore(client_from_url(settings.redis_url or ""), settings, SystemClock())
        except StoreUnavailable:
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
