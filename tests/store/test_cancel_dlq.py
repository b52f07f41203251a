"""cancel.lua, dlq_requeue.lua, dlq_purge.lua."""

from __future__ import annotations

import json

import pytest
from store_helpers import State, blueprint, queue, single, task

from ottermq.clock import FakeClock
from ottermq.errors import NotFound
from ottermq.store.blueprint import DeadLetter
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import (
    Ack,
    AckStatus,
    ExtendStatus,
    FailStatus,
    Failure,
    RequeueStatus,
    RunRequest,
    RunState,
)


def test_cancel_during_run(store: RedisStore, state: State) -> None:
    bp = blueprint([task("a"), task("b"), task("c", needs=["a", "b"]), task("d", delay_ms=1000)])
    store.create_run(bp, RunRequest(run_id="r1"))
    [a] = store.lease(["q"], 1, worker="w").tasks
    assert store.cancel_run("r1") is RunState.CANCELLED
    assert state.ready() == [] and state.delayed() == [] and state.inflight() == []
    assert {t: state.unit(f"r1|{t}").get("st") for t in "abcd"} == {
        "a": "cancelled",
        "b": "cancelled",
        "c": None,
        "d": "cancelled",
    }
    run = state.run("r1")
    assert (run["state"], run["s:c"]) == ("cancelled", "cancelled")
    assert state.counter("inflight") == 0
    assert store.extend([a.ref])[0].status is ExtendStatus.CANCELLED
    assert store.ack([Ack(a.unit_id, a.token, "1")])[0].status is AckStatus.CANCELLED
    assert store.fail([Failure(a.unit_id, a.token, "error", "x", 0)])[0].status is FailStatus.CANCELLED
    assert state.unit("r1|a").get("out") is None and state.ready() == []
    assert 0 < state.ttl(state.p + "run:r1") <= store.settings.retention_ms
    assert store.cancel_run("r1") is RunState.CANCELLED


def test_cancel_finished_or_unknown(store: RedisStore) -> None:
    store.create_run(single(), RunRequest(run_id="r1"))
    [t] = store.lease(["q"], 1, worker="w").tasks
    store.ack([Ack(t.unit_id, t.token, "1")])
    assert store.cancel_run("r1") is RunState.SUCCEEDED
    with pytest.raises(NotFound):
        store.cancel_run("ghost")


def dead_chain(store: RedisStore, **dead: object) -> None:
    bp = blueprint(
        [task("a", max_attempts=1), task("b", needs=["a"]), task("c", needs=["b"])], [queue(dead_letter=DeadLetter(**dead))]
    )  # type: ignore[arg-type]
    store.create_run(bp, RunRequest(run_id="r1"))
    [t] = store.lease(["q"], 1, worker="w").tasks
    store.fail([Failure(t.unit_id, t.token, "error", "broken", 0)])


def test_requeue_reopens_failed_run_and_unskips(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    dead_chain(store)
    assert state.run("r1")["state"] == "failed" and state.run("r1")["s:c"] == "skipped"
    assert store.dlq_requeue(["r1|a"], new_input='"fixed"') == [RequeueStatus.REQUEUED]
    run = state.run("r1")
    assert (run["state"], run["s:a"], run["s:b"], run["s:c"], run["open"], run["fc"], run["dlq"]) == (
        "running",
        "active",
        "waiting",
        "waiting",
        "3",
        "0",
        "0",
    )
    assert "failed" not in run and "finished" not in run
    assert (run["w:b"], run["k:b"], run["w:c"], run["k:c"]) == ("1", "0", "1", "0")
    assert state.ttl(state.p + "run:r1") == -1 and state.dead() == []
    [t] = store.lease(["q"], 1, worker="w").tasks
    assert (t.input, t.attempt) == ('"fixed"', 1)
    store.ack([Ack(t.unit_id, t.token, "1")])
    for _ in range(2):
        [n] = store.lease(["q"], 1, worker="w").tasks
        store.ack([Ack(n.unit_id, n.token, "1")])
    assert state.run("r1")["state"] == "succeeded"
    assert len(json.loads(state.unit("r1|a")["h"])) == 1


def test_requeue_refuses_what_is_not_dead(store: RedisStore) -> None:
    store.create_run(single(), RunRequest(run_id="r1"))
    assert store.dlq_requeue(["r1|a", "zz|a"]) == [RequeueStatus.NOT_DEAD, RequeueStatus.NOT_FOUND]


def test_requeue_fan_out_item(store: RedisStore, state: State) -> None:
    bp = blueprint([task("each", fan_out=True, max_attempts=1), task("sum", needs=["each"])])
    store.create_run(bp, RunRequest(run_id="r1"))
    [fan] = store.lease(["q"], 1, worker="w").tasks
    store.expand(fan.ref, ["1", "2"])
    one, two = store.lease(["q"], 2, worker="w").tasks
    store.ack([Ack(one.unit_id, one.token, "1")])
    store.fail([Failure(two.unit_id, two.token, "error", "x", 0)])
    assert state.run("r1")["state"] == "failed"
    assert store.dlq_requeue(["r1|each|1"]) == [RequeueStatus.REQUEUED]
    assert (state.run("r1")["d:each"], state.run("r1")["x:each"]) == ("1", "0")
    [two] = store.lease(["q"], 1, worker="w").tasks
    store.ack([Ack(two.unit_id, two.token, "2")])
    [total] = store.lease(["q"], 1, worker="w").tasks
    assert total.needs == (("each", "[1,2]"),)


def test_purge_lets_the_run_expire(store: RedisStore, state: State) -> None:
    dead_chain(store)
    assert state.ttl(state.p + "run:r1") == -1
    assert store.dlq_purge(["r1|a", "r1|a"]) == 1
    assert state.dead() == [] and state.unit("r1|a")["st"] == "dead"
    assert 0 < state.ttl(state.p + "run:r1") <= store.settings.retention_ms


def test_dead_letter_retention_bounds_the_run(store: RedisStore, state: State) -> None:
    dead_chain(store, retention_ms=10 * store.settings.retention_ms)
    assert store.settings.retention_ms < state.ttl(state.p + "run:r1") <= 10 * store.settings.retention_ms


def test_disabled_dead_letter_queue_keeps_nothing(store: RedisStore, state: State) -> None:
    dead_chain(store, enabled=False)
    assert state.dead() == [] and state.unit("r1|a")["st"] == "dead"
    assert 0 < state.ttl(state.p + "run:r1") <= store.settings.retention_ms


def test_dead_unit_listing(store: RedisStore) -> None:
    dead_chain(store)
    assert store.dead_unit_ids("q") == ["r1|a"]


def test_requeue_all_and_purge_all_across_shards(make_store) -> None:
    store = make_store(shards=3)
    bp = blueprint([task("a", max_attempts=1)])
    store.create_runs(bp, [RunRequest(run_id=f"r{i}") for i in range(30)])
    for t in store.lease(["q"], 30, worker="w").tasks:
        store.fail([Failure(t.unit_id, t.token, "error", "x", 0)])
    assert len(store.dead_unit_ids("q")) == 30
    assert store.dlq_requeue_all("q", batch=7) == 30
    assert store.dead_unit_ids("q") == []
    for t in store.lease(["q"], 30, worker="w").tasks:
        store.fail([Failure(t.unit_id, t.token, "error", "x", None)])
    assert store.dlq_purge_all("q", batch=8) == 30 and store.dead_unit_ids("q") == []


def test_requeue_after_continue_does_not_rerun_downstream(store: RedisStore, state: State) -> None:
    from ottermq.store.blueprint import OnFailure

    bp = blueprint([task("a", max_attempts=1, on_failure=OnFailure.CONTINUE), task("b", needs=["a"])])
    store.create_run(bp, RunRequest(run_id="r1"))
    [a] = store.lease(["q"], 1, worker="w").tasks
    store.fail([Failure(a.unit_id, a.token, "error", "x", 0)])
    [b] = store.lease(["q"], 1, worker="w").tasks
    assert b.needs == (("a", "null"),)
    store.ack([Ack(b.unit_id, b.token, "1")])
    assert state.run("r1")["state"] == "succeeded"
    assert store.dlq_requeue(["r1|a"]) == [RequeueStatus.REQUEUED]
    assert state.run("r1")["state"] == "running"
    [a] = store.lease(["q"], 5, worker="w").tasks
    store.ack([Ack(a.unit_id, a.token, '"late"')])
    run = state.run("r1")
    assert (run["state"], run["open"], run["s:b"]) == ("succeeded", "0", "succeeded")
    assert store.lease(["q"], 5, worker="w").tasks == ()


def test_requeue_refused_for_cancelled_run(store: RedisStore) -> None:
    # x dies while y is still waiting: the run is running, then cancelled.
    store.create_run(blueprint([task("x", max_attempts=1), task("y", delay_ms=60_000)]), RunRequest(run_id="r2"))
    [t] = store.lease(["q"], 1, worker="w").tasks
    store.fail([Failure(t.unit_id, t.token, "error", "x", 0)])
    assert store.cancel_run("r2") is RunState.CANCELLED
    assert store.dlq_requeue(["r2|x"]) == [RequeueStatus.CANCELLED]
