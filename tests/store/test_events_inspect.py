"""Event reader (merge, resume, block) and the read-only inspection queries."""

from __future__ import annotations

import json
import threading
import time

import pytest
from store_helpers import blueprint, chain, single, task

from ottermq.clock import FakeClock
from ottermq.errors import NotFound
from ottermq.store.events import EventCursor, EventReader
from ottermq.store.inspect import Inspector
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, Failure, RunRequest, RunState, TaskState, UnitState


def test_events_merge_shards_in_time_order_and_resume(make_store, fake_clock: FakeClock) -> None:
    store = make_store(shards=3)
    reader = EventReader(store)
    bp = single()
    for i in range(6):
        store.create_run(bp, RunRequest(run_id=f"r{i}"))
        fake_clock.advance(5)
    events, cursor = reader.read()
    created = [e.run_id for e in events if e.type == "run.created"]
    assert created == [f"r{i}" for i in range(6)]
    assert {e.shard for e in events} == {store.keyspace.shard_of(f"r{i}") for i in range(6)}
    ready = [e for e in events if e.type == "task.ready"]
    assert ready[0].unit_id == "r0|a" and ready[0].queue == "q"
    lease = store.lease(["q"], 10, worker="w")
    more, cursor2 = reader.read(EventCursor.parse(str(cursor)))
    assert sorted(e.unit_id for e in more if e.type == "task.leased") == sorted(t.unit_id for t in lease.tasks)
    assert all(e.data["a"] == 1 for e in more if e.type == "task.leased")
    assert reader.read(cursor2) == ([], cursor2)


def test_events_block_until_something_happens(store: RedisStore) -> None:
    reader = EventReader(store)
    cursor = reader.latest()
    timer = threading.Timer(0.05, lambda: store.create_run(single(), RunRequest(run_id="late")))
    started = time.monotonic()
    timer.start()
    events, _ = reader.read(cursor, block_ms=5000)
    timer.join()
    assert [e.type for e in events][:1] == ["run.created"] and time.monotonic() - started < 2


def test_every_transition_is_recorded(store: RedisStore) -> None:
    reader = EventReader(store)
    store.create_run(chain("a", "b"), RunRequest(run_id="r1"))
    [a] = store.lease(["q"], 1, worker="w").tasks
    store.fail([Failure(a.unit_id, a.token, "error", "x", 0)])
    [a] = store.lease(["q"], 1, worker="w").tasks
    store.ack([Ack(a.unit_id, a.token, "1")])
    [b] = store.lease(["q"], 1, worker="w").tasks
    store.ack([Ack(b.unit_id, b.token, "1")])
    types = [e.type for e in reader.read()[0]]
    assert types == [
        "run.created",
        "task.ready",
        "run.started",
        "task.leased",
        "task.retry",
        "task.leased",
        "task.succeeded",
        "task.ready",
        "task.leased",
        "task.succeeded",
        "run.succeeded",
    ]


def test_inspect_runs_and_run_detail(store: RedisStore, fake_clock: FakeClock) -> None:
    bp = blueprint([task("a"), task("each", needs=["a"], fan_out=True)])
    store.create_run(bp, RunRequest(run_id="r1", labels={"team": "x"}))
    fake_clock.advance(10)
    store.create_run(bp, RunRequest(run_id="r2", priority=3))
    inspector = Inspector(store)
    assert [r.run_id for r in inspector.runs()] == ["r2", "r1"]
    assert inspector.runs(pipeline="other") == []
    for a in store.lease(["q"], 2, worker="w").tasks:
        store.ack([Ack(a.unit_id, a.token, '"out"')])
    fan = next(t for t in store.lease(["q"], 2, worker="w").tasks if t.run_id == "r1")
    store.expand(fan.ref, ["1", "2"])
    detail = inspector.run("r1")
    assert detail.summary.state is RunState.RUNNING and detail.summary.labels == {"team": "x"}
    assert [(t.name, t.state) for t in detail.tasks] == [("a", TaskState.SUCCEEDED), ("each", TaskState.ACTIVE)]
    assert [u.state for u in detail.tasks[1].units] == [UnitState.EXPANDED, UnitState.READY, UnitState.READY]
    assert detail.tasks[0].units[0].output == '"out"'
    with pytest.raises(NotFound):
        inspector.run("ghost")


def test_inspect_queue_stats_and_dead_letters(store: RedisStore) -> None:
    store.create_runs(single(max_attempts=1), [RunRequest(run_id=f"r{i}") for i in range(4)])
    leased = store.lease(["q"], 3, worker="w").tasks
    store.ack([Ack(leased[0].unit_id, leased[0].token, "1")])
    store.fail([Failure(leased[1].unit_id, leased[1].token, "trap", "unreachable", 0)])
    inspector = Inspector(store)
    stats = inspector.queue_stats("q")
    assert (stats.ready, stats.in_flight, stats.processed, stats.failed, stats.dead_lettered, stats.dead_letters) == (
        1,
        1,
        1,
        1,
        1,
        1,
    )
    assert inspector.queues() == ["q"]
    [dead] = inspector.dead_letters("q")
    assert (dead.unit_id, dead.error, dead.error_kind, dead.attempts) == (leased[1].unit_id, "unreachable", "trap", 1)
    assert inspector.dead_letter(dead.unit_id).history[0]["kind"] == "trap"
    with pytest.raises(NotFound):
        inspector.dead_letter(leased[0].unit_id)
    store.dlq_purge([dead.unit_id])
    assert inspector.dead_letters("q") == [] and sorted(r.run_id for r in inspector.runs(finished=True)) == ["r0", "r1"]


def test_stream_is_trimmed_by_event_count(make_store) -> None:
    store = make_store(events_maxlen=160)
    bp = single()
    for i in range(300):
        store.create_run(bp, RunRequest(run_id=f"r{i}"))  # two events per call
    store.create_runs(bp, [RunRequest(run_id=f"big{i}") for i in range(250)])  # 500 events, 3 entries
    for i in range(300, 400):
        store.create_run(bp, RunRequest(run_id=f"r{i}"))
    events, _ = EventReader(store).read(count=10_000)
    assert 160 <= len(events) <= 160 + 160 // 16 + 2
    assert events[-1].run_id == "r399"
    entries = store.client.xrange(store.keyspace.shard_prefix(0) + "events")
    assert max(len(json.loads(fields["e"])) for _, fields in entries) <= 200


def test_events_and_inspection_on_a_cluster(redis_cluster, cluster_url: str) -> None:
    from ottermq.clock import SystemClock
    from ottermq.settings import Settings
    from ottermq.store.connection import client_from_url

    url = "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in redis_cluster.addresses)
    store = RedisStore(client_from_url(url), Settings(redis_url=url, shards=6), SystemClock())
    reader = EventReader(store)
    try:
        cursor = reader.latest()
        store.create_runs(single(), [RunRequest(run_id=f"r{i}") for i in range(12)])
        events, cursor = reader.read(cursor)
        assert sorted(e.run_id for e in events if e.type == "run.created") == sorted(f"r{i}" for i in range(12))
        timer = threading.Timer(0.05, lambda: store.create_run(single(), RunRequest(run_id="late")))
        timer.start()
        late, _ = reader.read(cursor, block_ms=5000)
        timer.join()
        assert "late" in {e.run_id for e in late}
        inspector = Inspector(store)
        assert len(inspector.runs(limit=100)) == 13 and inspector.queue_stats("q").ready == 13
    finally:
        reader.close()
        store.close()
