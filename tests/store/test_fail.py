"""fail.lua and reap.lua: retries, dead-lettering, on_failure, expired leases."""

from __future__ import annotations

import json

from store_helpers import State, blueprint, single, task

from ottermq.clock import FakeClock
from ottermq.store.blueprint import Backoff, BackoffKind, OnFailure, retry_delay_ms
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, FailStatus, Failure, RunRequest


def fail_one(store: RedisStore, kind: str = "error", delay: int | None = 0, msg: str = "boom") -> FailStatus:
    [t] = store.lease(["q"], 1, worker="w").tasks
    return store.fail([Failure(t.unit_id, t.token, kind, msg, delay)])[0].status


def test_retry_goes_to_delayed_with_history(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    store.create_run(single(), RunRequest(run_id="r1"))
    [t] = store.lease(["q"], 1, worker="w").tasks
    [res] = store.fail([Failure(t.unit_id, t.token, "error", 'bad "input"', 2500)])
    now = fake_clock.now_ms()
    assert res.status is FailStatus.RETRIED and res.due_ms == now + 2500
    assert state.delayed() == [("r1|a", float(now + 2500))] and state.inflight() == []
    unit = state.unit("r1|a")
    assert (unit["st"], unit["err"], unit["ek"], unit["a"]) == ("delayed", 'bad "input"', "error", "1")
    assert json.loads(unit["h"]) == [{"attempt": 1, "kind": "error", "error": 'bad "input"', "at": now}]
    assert (state.counter("failed"), state.counter("retried"), state.counter("inflight")) == (1, 1, 0)
    assert store.lease(["q"], 1, worker="w").wake_at_ms == now + 2500
    fake_clock.advance(2500)
    [again] = store.lease(["q"], 1, worker="w").tasks
    assert again.attempt == 2


def test_zero_delay_retry_is_ready_at_once(store: RedisStore, state: State) -> None:
    store.create_run(single(), RunRequest(run_id="r1"))
    assert fail_one(store, delay=0) is FailStatus.RETRIED
    assert state.ready() == ["r1|a"]


def test_exhausted_attempts_dead_letter_and_fail_run(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    store.create_run(single(max_attempts=2), RunRequest(run_id="r1"))
    assert fail_one(store) is FailStatus.RETRIED
    [t] = store.lease(["q"], 1, worker="w").tasks
    [res] = store.fail([Failure(t.unit_id, t.token, "error", "again", 0)])
    assert (res.status, res.reason) == (FailStatus.DEAD, "exhausted")
    assert state.dead() == ["r1|a"] and state.unit("r1|a")["st"] == "dead"
    assert len(json.loads(state.unit("r1|a")["h"])) == 2
    run = state.run("r1")
    assert (run["state"], run["failed"], run["fc"], run["dlq"], run["s:a"]) == ("failed", "a", "1", "1", "failed")
    assert state.counter("dead") == 1
    # A run with an entry in a dead-letter queue kept forever does not expire.
    assert state.ttl(state.p + "run:r1") == -1


def test_permanent_and_unlisted_kinds_dead_letter_at_once(store: RedisStore) -> None:
    store.create_runs(single(retry_on=("error",)), [RunRequest(run_id="r1"), RunRequest(run_id="r2")])
    [t1] = store.lease(["q"], 1, worker="w").tasks
    assert store.fail([Failure(t1.unit_id, t1.token, "error", "x", None)])[0].reason == "permanent"
    [t2] = store.lease(["q"], 1, worker="w").tasks
    assert store.fail([Failure(t2.unit_id, t2.token, "trap", "x", 100)])[0].reason == "not retried: trap"


def test_fail_with_stale_token(store: RedisStore, state: State) -> None:
    store.create_run(single(), RunRequest(run_id="r1"))
    [t] = store.lease(["q"], 1, worker="w").tasks
    assert store.fail([Failure(t.unit_id, "forged", "error", "x", 0)])[0].status is FailStatus.LOST
    assert state.unit("r1|a")["st"] == "running"


def diamond(policy: OnFailure) -> object:
    # a -> b -> d ; a -> c ; (b fails)
    return blueprint(
        [
            task("a"),
            task("b", needs=["a"], max_attempts=1, on_failure=policy),
            task("c", needs=["a"]),
            task("d", needs=["b"]),
            task("e", needs=["d", "c"]),
        ]
    )


def run_diamond(store: RedisStore, policy: OnFailure) -> dict[str, str]:
    store.create_run(diamond(policy), RunRequest(run_id="r1"))
    seen: dict[str, str] = {}
    while True:
        lease = store.lease(["q"], 10, worker="w")
        if not lease.tasks:
            return seen
        for t in lease.tasks:
            seen[t.task] = json.dumps(dict(t.needs))
            if t.task == "b":
                store.fail([Failure(t.unit_id, t.token, "error", "no", 0)])
            else:
                store.ack([Ack(t.unit_id, t.token, json.dumps(t.task))])


def test_on_failure_fail_skips_downstream_finishes_branches(store: RedisStore, state: State) -> None:
    seen = run_diamond(store, OnFailure.FAIL)
    assert sorted(seen) == ["a", "b", "c"]
    run = state.run("r1")
    assert (run["state"], run["s:c"], run["s:d"], run["s:e"], run["open"]) == ("failed", "succeeded", "skipped", "skipped", "0")


def test_on_failure_skip_lets_run_succeed(store: RedisStore, state: State) -> None:
    seen = run_diamond(store, OnFailure.SKIP)
    assert sorted(seen) == ["a", "b", "c"]
    assert state.run("r1")["state"] == "succeeded" and state.run("r1")["s:d"] == "skipped"


def test_on_failure_continue_passes_null(store: RedisStore, state: State) -> None:
    seen = run_diamond(store, OnFailure.CONTINUE)
    assert json.loads(seen["d"]) == {"b": "null"}
    assert state.run("r1")["state"] == "succeeded"


def test_fan_out_item_failure_under_continue_gives_null_item(store: RedisStore) -> None:
    bp = blueprint([task("each", fan_out=True, max_attempts=1, on_failure=OnFailure.CONTINUE), task("sum", needs=["each"])])
    store.create_run(bp, RunRequest(run_id="r1"))
    [fan] = store.lease(["q"], 1, worker="w").tasks
    store.expand(fan.ref, ["1", "2"])
    first, second = store.lease(["q"], 2, worker="w").tasks
    store.fail([Failure(first.unit_id, first.token, "error", "x", 0)])
    store.ack([Ack(second.unit_id, second.token, "20")])
    [total] = store.lease(["q"], 1, worker="w").tasks
    assert total.needs == (("each", "[null,20]"),)


def test_reaper_retries_with_backoff_then_dead_letters(store: RedisStore, state: State, fake_clock: FakeClock) -> None:
    backoff = Backoff(kind=BackoffKind.EXPONENTIAL, initial_ms=1000, max_ms=1500, jitter=0.0)
    store.create_run(single(max_attempts=2, backoff=backoff), RunRequest(run_id="r1"))
    store.lease(["q"], 1, worker="w", lease_ms=500)
    fake_clock.advance(501)
    reaped = store.reap()
    assert reaped.reaped == 1 and reaped.next_deadline_ms is None
    due = fake_clock.now_ms() + retry_delay_ms(backoff, 1, 0.0)
    assert state.delayed() == [("r1|a", float(due))]
    assert json.loads(state.unit("r1|a")["h"])[0]["kind"] == "lease_expired"
    assert (state.counter("inflight"), state.counter("failed"), state.counter("retried")) == (0, 1, 1)
    fake_clock.set(due)
    [t] = store.lease(["q"], 1, worker="w", lease_ms=500).tasks
    assert t.attempt == 2
    fake_clock.advance(501)
    # The lease script reaps on its way, too.
    assert store.lease(["q"], 1, worker="w").tasks == ()
    assert state.unit("r1|a")["ek"] == "lease_expired" and state.run("r1")["state"] == "failed"


def test_reap_is_safe_from_many_callers(store: RedisStore, make_store, fake_clock: FakeClock) -> None:
    other = make_store()
    store.create_runs(single(), [RunRequest(run_id=f"r{i}") for i in range(50)])
    store.lease(["q"], 50, worker="w", lease_ms=10)
    fake_clock.advance(11)
    assert store.reap(limit=30).reaped + other.reap(limit=30).reaped + store.reap().reaped == 50
    assert store.reap().reaped == 0


def test_backoff_formula() -> None:
    exp = Backoff(kind=BackoffKind.EXPONENTIAL, initial_ms=100, max_ms=1000, jitter=0.5)
    assert [retry_delay_ms(exp, a, 0.0) for a in (1, 2, 3, 4, 5)] == [100, 200, 400, 800, 1000]
    assert retry_delay_ms(exp, 2, 0.5) == 150
    assert retry_delay_ms(Backoff(kind=BackoffKind.FIXED, initial_ms=70, max_ms=10), 3, 0.0) == 10
