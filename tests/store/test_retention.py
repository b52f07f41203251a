"""Retention: finished runs expire, indexes are trimmed, memory returns to its baseline."""

from __future__ import annotations

import time

import redis
from store_helpers import single

from ottermq import keys
from ottermq.clock import SystemClock
from ottermq.settings import Settings
from ottermq.store.connection import client_from_url
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, RunRequest

RETENTION_MS = 300


def drive(store: RedisStore, runs: int, batch: int = 500) -> None:
    bp = single()
    for start in range(0, runs, batch):
        store.create_runs(bp, [RunRequest() for _ in range(min(batch, runs - start))])
        while True:
            lease = store.lease(["q"], batch, worker="w")
            if not lease.tasks:
                break
            store.ack([Ack(t.unit_id, t.token, '{"result":"x"}') for t in lease.tasks])


def expire_all(client: redis.Redis) -> None:
    """Wait out the retention, then touch every key so expired ones go now (test-only)."""
    time.sleep(RETENTION_MS / 1000 + 0.05)
    for key in client.scan_iter(count=1000):
        client.exists(key)


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def test_memory_returns_to_baseline_after_50k_runs(redis_url: str) -> None:
    settings = Settings(redis_url=redis_url, retention_ms=RETENTION_MS, events_maxlen=100)
    store = RedisStore(client_from_url(redis_url), settings, SystemClock())
    client = store.client
    drive(store, 2_000)  # warm-up: scripts, blueprint, queue state and the capped stream at steady state
    expire_all(client)
    drive(store, 10)
    baseline, baseline_keys = used_memory(client), client.dbsize()
    drive(store, 50_000)
    peak, peak_keys = used_memory(client), client.dbsize()
    expire_all(client)
    drive(store, 10)  # a later finish trims the finished-runs index
    after, after_keys = used_memory(client), client.dbsize()
    p = store.keyspace.shard_prefix(0)
    assert client.zcard(keys.shard_runs_done(p)) <= 20
    assert client.zcard(keys.shard_runs_active(p)) == 0
    # Runs finishing within the last retention period were still there: the data was real.
    assert peak_keys > baseline_keys + 500 and peak > baseline
    assert after_keys <= baseline_keys + 25
    assert after - baseline < 1_000_000, f"baseline {baseline}, peak {peak}, after {after}"
