"""Idle consumers block on a wake-up and get it within milliseconds of new work."""

from __future__ import annotations

import statistics
import threading
import time

from store_helpers import blueprint, queue, single, task

from ottermq.store.blueprint import QueueKind
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, Failure, RunRequest


def test_wait_returns_the_shard_with_new_work(make_store) -> None:
    store = make_store(shards=4)
    with store.wake_listener(["q"]) as listener:
        assert listener.wait(0.01) == frozenset()
        store.create_run(single(), RunRequest(run_id="r1"))
        assert listener.wait(1.0) == {store.keyspace.shard_of("r1")}


def test_work_published_before_wait_is_not_missed(store: RedisStore) -> None:
    bp = single()
    with store.wake_listener(["q"]) as listener:
        assert store.lease(["q"], 1, worker="w").tasks == ()
        store.create_run(bp, RunRequest(run_id="r1"))  # between the empty lease and the wait
        started = time.monotonic()
        assert listener.wait(5.0) == {0}
        assert time.monotonic() - started < 0.5


def test_composite_listener_hears_members_and_retries(store: RedisStore) -> None:
    c = queue("c", kind=QueueKind.COMPOSITE, members=("x", "y"))
    bp = blueprint([task("a", "y")], [queue("x"), queue("y"), c])
    store.install(bp)
    with store.wake_listener(["c"]) as listener:
        store.create_run(bp, RunRequest(run_id="r1"))
        assert listener.wait(1.0) == {0}
        [t] = store.lease(["c"], 1, worker="w").tasks
        store.fail([Failure(t.unit_id, t.token, "error", "x", 50)])
        assert listener.wait(1.0) == {0}  # a delayed retry wakes sleepers to re-plan


def test_ack_frees_a_concurrency_slot_and_wakes(store: RedisStore) -> None:
    bp = single(queue(concurrency=1))
    store.create_runs(bp, [RunRequest(run_id="r1"), RunRequest(run_id="r2")])
    [t] = store.lease(["q"], 5, worker="w").tasks
    with store.wake_listener(["q"]) as listener:
        assert store.lease(["q"], 5, worker="w").tasks == ()
        listener.wait(0)
        store.ack([Ack(t.unit_id, t.token, "1")])
        assert listener.wait(1.0) == {0}


def test_wake_latency_p50_is_milliseconds(store: RedisStore, make_store) -> None:
    producer = make_store()
    bp = single()
    store.install(bp)
    latencies: list[float] = []
    with store.wake_listener(["q"]) as listener:
        for i in range(30):
            sent: list[float] = []

            def produce(run_id: str = f"r{i}", sent: list[float] = sent) -> None:
                sent.append(time.perf_counter())
                producer.create_run(bp, RunRequest(run_id=run_id))

            timer = threading.Timer(0.005, produce)
            timer.start()
            listener.wait(2.0)
            woke = time.perf_counter()
            timer.join()
            latencies.append(woke - sent[0])
            store.lease(["q"], 1, worker="w")
    assert statistics.median(latencies) < 0.02
