"""create_runs.lua / install_blueprint.lua: exact state after creating runs."""

from __future__ import annotations

import json

import pytest
import redis
from store_helpers import State, blueprint, chain, queue, single, task

from ottermq import keys
from ottermq.clock import FakeClock
from ottermq.errors import BlueprintError, QueueFull
from ottermq.store.blueprint import Overflow, QueueKind
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import RunRequest, RunState


def test_install_writes_blueprint_and_queue_config(store: RedisStore, rc: redis.Redis) -> None:
    bp = blueprint(
        [task("a", "q1"), task("b", "q2", needs=["a"], fan_out=True)], [queue("q1", max_size=10, concurrency=3), queue("q2")]
    )
    digest = store.install(bp)
    p = store.keyspace.shard_prefix(0)
    meta = json.loads(rc.hget(keys.blueprint(p, digest), "meta"))
    assert meta == {
        "pipeline": "p",
        "ver": 1,
        "hash": "h1",
        "order": ["a", "b"],
        "roots": ["a"],
        "fanouts": ["b"],
        "ret": store.settings.retention_ms,
        "dlr": -1,
    }
    a = json.loads(rc.hget(keys.blueprint(p, digest), "t:a"))
    assert a["q"] == "q1" and a["nd"] == [] and a["ch"] == ["b"] and a["ma"] == 3
    assert json.loads(rc.get(keys.queue_config(p, "q1")))["max"] == 10
    assert rc.smembers(keys.shard_queues(p)) == {"q1", "q2"}


def test_limits_are_split_across_shards(make_store, rc: redis.Redis) -> None:
    store = make_store(shards=3)
    store.install(single(queue(max_size=10, concurrency=2)))
    shares = [json.loads(rc.get(keys.queue_config(store.keyspace.shard_prefix(s), "q"))) for s in range(3)]
    assert [c["max"] for c in shares] == [4, 3, 3]
    assert [c["conc"] for c in shares] == [1, 1, 1]  # never below one per shard


def test_invalid_blueprint_lists_every_problem(store: RedisStore) -> None:
    bp = blueprint([task("a", "nope", max_attempts=0), task("b", needs=["zz"])], [queue("q")])
    with pytest.raises(BlueprintError) as info:
        store.install(bp)
    problems = " ".join(info.value.problems)
    assert "'nope'" in problems and "max_attempts" in problems and "'zz'" in problems


def test_create_writes_exact_state(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    bp = chain("a", "b")
    now = fake_clock.now_ms()
    created = store.create_run(bp, RunRequest(params_json='{"n":1}', run_id="r1", labels={"k": "v"}, inputs={"a": '"x"'}))
    assert created.created and created.state is RunState.PENDING
    run = state.run("r1")
    assert run == {
        "params": '{"n":1}', "labels": '{"k":"v"}', "bp": bp.digest(), "state": "pending", "created": str(now),
        "open": "2", "s:a": "active", "s:b": "waiting", "w:b": "1",
        # the root unit's fields live in the run hash
        "a|a": "0", "a|pr": "0", "a|in": '"x"', "a|st": "ready",
    }  # fmt: skip
    assert state.unit("r1|a") == {"a": "0", "pr": "0", "in": '"x"', "st": "ready"}
    assert state.unit("r1|b") == {}
    assert state.ready() == ["r1|a"]
    assert state.c.zrange(keys.shard_runs_active(state.p), 0, -1, withscores=True) == [("r1", float(now))]


def test_same_run_id_creates_one_run(store: RedisStore, state: State) -> None:
    bp = single()
    first = store.create_run(bp, RunRequest(run_id="same"))
    again = store.create_run(bp, RunRequest(run_id="same", params_json='{"other":1}'))
    assert first.created and not again.created and again.state is RunState.PENDING
    assert state.ready() == ["same|a"]
    assert state.run("same")["params"] == "{}"


def test_blueprint_is_installed_lazily_when_missing(store: RedisStore, state: State, rc: redis.Redis) -> None:
    bp = single()
    store.create_run(bp, RunRequest(run_id="r1"))
    rc.delete(keys.blueprint(state.p, bp.digest()))
    assert store.create_run(bp, RunRequest(run_id="r2")).created
    assert rc.exists(keys.blueprint(state.p, bp.digest()))


def test_bulk_creation_across_shards(make_store, rc: redis.Redis) -> None:
    store = make_store(shards=4)
    bp = chain("a", "b")
    results = store.create_runs(bp, [RunRequest(run_id=f"r{i}") for i in range(1200)])
    assert [r.run_id for r in results] == [f"r{i}" for i in range(1200)]
    assert all(r.created for r in results)
    total = sum(rc.zcard(keys.queue_ready(p, "q")) for p in store.keyspace.shard_prefixes)
    assert total == 1200
    for r in ("r0", "r77", "r1199"):
        p = store.keyspace.run_prefix(r)
        assert rc.zscore(keys.queue_ready(p, "q"), f"{r}|a") is not None


def test_reject_when_root_queue_full(store: RedisStore, state: State) -> None:
    bp = single(queue(max_size=2, on_full=Overflow.REJECT))
    store.create_runs(bp, [RunRequest(run_id="r1"), RunRequest(run_id="r2")])
    with pytest.raises(QueueFull, match="'q' is full"):
        store.create_run(bp, RunRequest(run_id="r3"))
    assert state.run("r3") == {}
    assert state.ready() == ["r1|a", "r2|a"]
    bulk = store.create_runs(bp, [RunRequest(run_id="r4")])
    assert bulk[0].rejected_by == "q" and not bulk[0].created


def test_priority_override_and_delay(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    bp = blueprint(
        [task("a", "pq", priority=2), task("b", "q", delay_ms=5000)],
        [queue("pq", kind=QueueKind.PRIORITY, levels=10), queue("q")],
    )
    store.create_run(bp, RunRequest(run_id="r1", priority=7))
    assert state.unit("r1|a")["pr"] == "7"
    assert state.delayed("q") == [("r1|b", float(fake_clock.now_ms() + 5000))]
    assert state.unit("r1|b")["st"] == "delayed"
