"""lease.lua, ack.lua, extend.lua, expand.lua: exact state, fencing, DAG firing, fan-out/fan-in."""

from __future__ import annotations

import pytest
from store_helpers import State, blueprint, chain, queue, single, task

from ottermq.clock import FakeClock
from ottermq.errors import LeaseLost, QueueFull
from ottermq.store.blueprint import Overflow
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, AckResult, AckStatus, ExtendStatus, LeaseRef, RunRequest


def test_lease_writes_exact_state(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    bp = single(timeout_ms=5000)
    store.create_run(bp, RunRequest(run_id="r1", params_json='{"p":1}', inputs={"a": "[1]"}))
    now = fake_clock.now_ms()
    lease = store.lease(["q"], 10, worker="w1")
    [t] = lease.tasks
    assert (t.unit_id, t.run_id, t.task, t.item, t.attempt, t.queue, t.expand) == ("r1|a", "r1", "a", None, 1, "q", False)
    assert (t.input, t.params, t.needs, t.deadline_ms) == ("[1]", '{"p":1}', (), now + 5000)
    assert (t.pipeline, t.plan_version, t.plan_hash) == ("p", 1, "h1")
    assert state.ready() == []
    assert state.inflight() == [("r1|a", float(now + 5000))]
    unit = state.unit("r1|a")
    assert {k: unit[k] for k in ("st", "a", "tok", "dl", "w")} == {
        "st": "running",
        "a": "1",
        "tok": t.token,
        "dl": str(now + 5000),
        "w": "w1",
    }
    assert state.run("r1")["state"] == "running" and state.run("r1")["started"] == str(now)
    assert state.counter("inflight") == 1


def test_lease_uses_default_lease_or_override(store: RedisStore, fake_clock: FakeClock) -> None:
    bp = single()
    store.create_runs(bp, [RunRequest(run_id="r1"), RunRequest(run_id="r2")])
    now = fake_clock.now_ms()
    assert store.lease(["q"], 1, worker="w").tasks[0].deadline_ms == now + store.settings.lease_ms
    assert store.lease(["q"], 1, worker="w", lease_ms=700).tasks[0].deadline_ms == now + 700


def test_lease_batch_and_empty_queue(store: RedisStore) -> None:
    bp = single()
    store.create_runs(bp, [RunRequest(run_id=f"r{i}") for i in range(5)])
    assert [t.run_id for t in store.lease(["q"], 3, worker="w").tasks] == ["r0", "r1", "r2"]
    assert [t.run_id for t in store.lease(["q"], 3, worker="w").tasks] == ["r3", "r4"]
    empty = store.lease(["q", "unknown"], 3, worker="w")
    assert empty.tasks == () and empty.wake_at_ms is None


def test_ack_completes_chain_and_finishes_run(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    bp = chain("a", "b")
    store.create_run(bp, RunRequest(run_id="r1"))
    [a] = store.lease(["q"], 10, worker="w").tasks
    assert store.ack([Ack(a.unit_id, a.token, '{"x":1}')]) == [AckResult("r1|a", AckStatus.DONE)]
    assert state.unit("r1|a")["st"] == "succeeded" and state.unit("r1|a")["out"] == '{"x":1}'
    assert state.inflight() == [] and state.ready() == ["r1|b"]
    run = state.run("r1")
    assert (run["s:a"], run["s:b"], run["w:b"], run["open"], run["state"]) == ("succeeded", "active", "0", "1", "running")
    [b] = store.lease(["q"], 10, worker="w").tasks
    assert b.needs == (("a", '{"x":1}'),) and b.input is None
    fake_clock.advance(10)
    store.ack([Ack(b.unit_id, b.token, "2")])
    run = state.run("r1")
    assert (run["state"], run["open"], run["finished"]) == ("succeeded", "0", str(fake_clock.now_ms()))
    assert state.counter("processed") == 2 and state.counter("inflight") == 0
    retention = store.settings.retention_ms
    assert 0 < state.ttl(state.p + "run:r1") <= retention
    assert state.c.dbsize() == len(state.c.keys(state.p + "*"))  # one shard, nothing else
    assert not state.c.keys(state.p + "unit*")
    assert state.c.zrange(state.p + "runs:active", 0, -1) == []
    assert state.c.zscore(state.p + "runs:done", "r1") == fake_clock.now_ms() + retention


def test_stale_token_changes_nothing(store: RedisStore, state: State) -> None:
    store.create_run(single(), RunRequest(run_id="r1"))
    [t] = store.lease(["q"], 1, worker="w").tasks
    before = state.unit("r1|a")
    assert store.ack([Ack(t.unit_id, "forged", "1")])[0].status is AckStatus.LOST
    assert store.extend([LeaseRef(t.unit_id, "forged")])[0].status is ExtendStatus.LOST
    assert state.unit("r1|a") == before and state.run("r1")["state"] == "running"


def test_duplicate_ack_fires_nothing_twice(store: RedisStore, state: State) -> None:
    bp = blueprint([task("a"), task("b", needs=["a"]), task("c", needs=["a"])])
    store.create_run(bp, RunRequest(run_id="r1"))
    [a] = store.lease(["q"], 1, worker="w").tasks
    store.ack([Ack(a.unit_id, a.token, "1")])
    events_before = state.c.xlen(state.p + "events")
    assert store.ack([Ack(a.unit_id, a.token, "1"), Ack(a.unit_id, a.token, "1")])[1].status is AckStatus.DUPLICATE
    assert sorted(state.ready()) == ["r1|b", "r1|c"]
    assert state.run("r1")["open"] == "2" and state.counter("processed") == 1
    assert state.c.xlen(state.p + "events") == events_before


def test_ack_after_reap_is_refused(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    store.create_run(single(), RunRequest(run_id="r1"))
    [old] = store.lease(["q"], 1, worker="w1", lease_ms=1000).tasks
    fake_clock.advance(1001)
    assert store.reap().reaped == 1
    fake_clock.advance(200)  # past the fixed backoff of 100 ms
    [new] = store.lease(["q"], 1, worker="w2").tasks
    assert new.attempt == 2 and new.token != old.token
    assert store.ack([Ack(old.unit_id, old.token, "stale")])[0].status is AckStatus.LOST
    assert store.ack([Ack(new.unit_id, new.token, "fresh")])[0].status is AckStatus.DONE
    assert state.unit("r1|a")["out"] == "fresh"


def test_extend_moves_deadline(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    store.create_run(single(), RunRequest(run_id="r1"))
    [t] = store.lease(["q"], 1, worker="w", lease_ms=1000).tasks
    fake_clock.advance(900)
    [res] = store.extend([t.ref], lease_ms=1000)
    assert res.status is ExtendStatus.EXTENDED and res.deadline_ms == fake_clock.now_ms() + 1000
    assert state.inflight() == [("r1|a", float(fake_clock.now_ms() + 1000))]
    fake_clock.advance(500)
    assert store.reap().reaped == 0
    assert store.extend([LeaseRef("zz|a", "t")])[0].status is ExtendStatus.NOT_FOUND


def test_diamond_waits_for_both_parents(store: RedisStore, state: State) -> None:
    bp = blueprint([task("a"), task("b", needs=["a"]), task("c", needs=["a"]), task("d", needs=["b", "c"])])
    store.create_run(bp, RunRequest(run_id="r1"))
    ack_all(store)
    b, c = sorted(store.lease(["q"], 10, worker="w").tasks, key=lambda t: t.task)
    store.ack([Ack(b.unit_id, b.token, '"B"')])
    assert state.ready() == [] and state.run("r1")["w:d"] == "1"
    store.ack([Ack(c.unit_id, c.token, '"C"')])
    [d] = store.lease(["q"], 10, worker="w").tasks
    assert d.needs == (("b", '"B"'), ("c", '"C"'))


def test_fan_out_and_fan_in(store: RedisStore, state: State) -> None:
    bp = blueprint([task("list"), task("each", needs=["list"], fan_out=True), task("sum", needs=["each"])])
    store.create_run(bp, RunRequest(run_id="r1"))
    ack_all(store, output='["x","y","z"]')
    [fan] = store.lease(["q"], 10, worker="w").tasks
    assert fan.expand and fan.needs == (("list", '["x","y","z"]'),)
    assert store.ack([Ack(fan.unit_id, fan.token, "[]")])[0].status is AckStatus.WRONG_KIND
    assert store.expand(fan.ref, ['"x"', '"y"', '"z"']).items == 3
    assert state.unit("r1|each")["st"] == "expanded" and state.run("r1")["n:each"] == "3"
    items = store.lease(["q"], 10, worker="w").tasks
    assert [(t.item, t.input, t.expand) for t in items] == [(0, '"x"', False), (1, '"y"', False), (2, '"z"', False)]
    store.ack([Ack(t.unit_id, t.token, str(t.item * 10)) for t in reversed(items)])
    [total] = store.lease(["q"], 10, worker="w").tasks
    assert total.task == "sum" and total.needs == (("each", "[0,10,20]"),)
    store.ack([Ack(total.unit_id, total.token, "30")])
    assert state.run("r1")["state"] == "succeeded"


def test_fan_out_of_zero_items(store: RedisStore, state: State) -> None:
    bp = blueprint([task("each", fan_out=True), task("sum", needs=["each"])])
    store.create_run(bp, RunRequest(run_id="r1"))
    [fan] = store.lease(["q"], 10, worker="w").tasks
    store.expand(fan.ref, [])
    [total] = store.lease(["q"], 10, worker="w").tasks
    assert total.needs == (("each", "[]"),)


def test_expand_fenced_and_bounded(store: RedisStore, state: State) -> None:
    bp = blueprint([task("each", fan_out=True)], [queue(max_size=3, on_full=Overflow.REJECT)])
    store.create_run(bp, RunRequest(run_id="r1"))
    [fan] = store.lease(["q"], 1, worker="w").tasks
    with pytest.raises(LeaseLost):
        store.expand(LeaseRef(fan.unit_id, "forged"), ["1"])
    with pytest.raises(QueueFull):
        store.expand(fan.ref, ["1", "2", "3", "4"])
    assert state.unit("r1|each")["st"] == "running" and state.ready() == []
    store.expand(fan.ref, ["1", "2", "3"])
    assert len(state.ready()) == 3


def ack_all(store: RedisStore, output: str = "null") -> None:
    for t in store.lease(["q"], 100, worker="w").tasks:
        store.ack([Ack(t.unit_id, t.token, output)])


def test_batches_span_shards_and_keep_input_order(make_store) -> None:
    store = make_store(shards=4)
    store.create_runs(single(), [RunRequest(run_id=f"r{i}") for i in range(40)])
    leased = store.lease(["q"], 100, worker="w").tasks
    assert len(leased) == 40 and len({store.keyspace.shard_of(t.run_id) for t in leased}) == 4
    mixed = list(reversed(leased))
    results = store.ack([Ack(t.unit_id, t.token, "1") for t in mixed])
    assert [r.unit_id for r in results] == [t.unit_id for t in mixed]
    assert {r.status for r in results} == {AckStatus.DONE}


def test_extend_defaults_to_the_task_timeout(store: RedisStore, fake_clock: FakeClock) -> None:
    store.create_run(single(timeout_ms=4000), RunRequest(run_id="r1"))
    [t] = store.lease(["q"], 1, worker="w").tasks
    assert t.deadline_ms == fake_clock.now_ms() + 4000
    fake_clock.advance(3000)
    [res] = store.extend([t.ref])
    assert res.deadline_ms == fake_clock.now_ms() + 4000


def test_lease_prefers_the_announced_shard(make_store) -> None:
    store = make_store(shards=4)
    store.create_runs(single(), [RunRequest(run_id=f"r{i}") for i in range(20)])
    target = store.keyspace.shard_of("r7")
    got = store.lease(["q"], 1, worker="w", shards=[target]).tasks
    assert [store.keyspace.shard_of(t.run_id) for t in got] == [target]
