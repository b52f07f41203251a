"""Queue semantics: ordering per kind, composite queues, overflow, concurrency and rate limits."""

from __future__ import annotations

from collections import Counter

from store_helpers import State, blueprint, queue, single, task

from ottermq.clock import FakeClock
from ottermq.store.blueprint import CompositeStrategy, Overflow, QueueKind, RateLimit
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, RunRequest


def leased_ids(store: RedisStore, queues: list[str], n: int = 100) -> list[str]:
    return [t.run_id for t in store.lease(queues, n, worker="w").tasks]


def make(store: RedisStore, bp: object, ids: list[str], **kw: object) -> None:
    store.create_runs(bp, [RunRequest(run_id=i, **kw) for i in ids])  # type: ignore[arg-type]


def test_fifo_and_lifo(store: RedisStore) -> None:
    make(store, single(queue("q")), ["a", "b", "c"])
    assert leased_ids(store, ["q"]) == ["a", "b", "c"]
    make(store, single(queue("l", kind=QueueKind.LIFO)), ["x", "y", "z"])
    assert leased_ids(store, ["l"], 2) == ["z", "y"]
    make(store, single(queue("l", kind=QueueKind.LIFO)), ["w"])
    assert leased_ids(store, ["l"]) == ["w", "x"]


def test_priority_then_arrival(store: RedisStore) -> None:
    bp = single(queue("p", kind=QueueKind.PRIORITY, levels=5))
    for rid, prio in [("low1", 0), ("high1", 4), ("mid", 2), ("high2", 4), ("low2", 0), ("clamped", 99)]:
        store.create_run(bp, RunRequest(run_id=rid, priority=prio))
    assert leased_ids(store, ["p"]) == ["high1", "high2", "clamped", "mid", "low1", "low2"]


def test_delayed_kind_orders_by_due_time(store: RedisStore, fake_clock: FakeClock, state: State) -> None:
    d = queue("d", kind=QueueKind.DELAYED)
    make(store, blueprint([task("a", "d", delay_ms=300)], [d]), ["late"])
    make(store, blueprint([task("a", "d", delay_ms=100)], [d], version=2), ["early"])
    lease = store.lease(["d"], 10, worker="w")
    assert lease.tasks == () and lease.wake_at_ms == fake_clock.now_ms() + 100
    fake_clock.advance(300)
    assert leased_ids(store, ["d"]) == ["early", "late"]


def test_promoter_moves_due_tasks_and_reports_next(store: RedisStore, fake_clock: FakeClock, state: State) -> None:
    make(store, single(delay_ms=100), ["r1"])
    make(store, single(delay_ms=500), ["r2"])
    now = fake_clock.now_ms()
    assert (store.promote().promoted, store.promote().next_due_ms) == (0, now + 100)
    fake_clock.advance(100)
    result = store.promote()
    assert (result.promoted, result.next_due_ms) == (1, now + 500)
    assert state.ready() == ["r1|a"] and state.unit("r1|a")["st"] == "ready"


def test_composite_strict_drains_members_in_order(store: RedisStore) -> None:
    c = queue("c", kind=QueueKind.COMPOSITE, members=("hi", "lo"))
    bp = blueprint([task("a", "lo"), task("b", "hi")], [queue("hi"), queue("lo"), c])
    make(store, bp, ["r1", "r2"])
    assert [t.task for t in store.lease(["c"], 3, worker="w").tasks] == ["b", "b", "a"]


def test_composite_weighted_keeps_proportions_across_calls(store: RedisStore) -> None:
    c = queue("c", kind=QueueKind.COMPOSITE, members=("x", "y"), strategy=CompositeStrategy.WEIGHTED, weights=(3, 1))
    bp = blueprint([task("a", "x"), task("b", "y")], [queue("x"), queue("y"), c])
    make(store, bp, [f"r{i}" for i in range(40)])
    got = Counter(t.queue for _ in range(20) for t in store.lease(["c"], 2, worker="w").tasks)
    assert got == {"x": 30, "y": 10}
    # Work-conserving: once x is empty, y gets every slot.
    got = Counter(t.queue for t in store.lease(["c"], 40, worker="w").tasks)
    assert got == {"x": 10, "y": 30}


def test_drop_oldest_dead_letters_the_victim(store: RedisStore, state: State) -> None:
    bp = single(queue(max_size=2, on_full=Overflow.DROP_OLDEST))
    make(store, bp, ["r1", "r2", "r3"])
    assert state.ready() == ["r2|a", "r3|a"]
    victim = state.unit("r1|a")
    assert (victim["st"], victim["ek"]) == ("dead", "dropped") and "is full" in victim["err"]
    assert state.dead() == ["r1|a"] and state.run("r1")["state"] == "failed"
    assert state.counter("dropped") == 1
    events = " ".join(e["e"] for _, e in state.c.xrange(state.p + "events"))
    assert "task.dropped" in events


def test_drop_oldest_in_priority_queue_drops_lowest_priority_first(store: RedisStore, state: State) -> None:
    bp = single(queue("p", kind=QueueKind.PRIORITY, levels=3, max_size=3, on_full=Overflow.DROP_OLDEST))
    for rid, prio in [("h", 2), ("l1", 0), ("l2", 0), ("new", 1)]:
        store.create_run(bp, RunRequest(run_id=rid, priority=prio))
    assert sorted(state.ready("p")) == ["h|a", "l2|a", "new|a"]


def test_concurrency_limit_holds_across_workers(store: RedisStore, make_store, state: State) -> None:
    other = make_store()
    make(store, single(queue(concurrency=3)), [f"r{i}" for i in range(10)])
    first = store.lease(["q"], 2, worker="w1").tasks
    second = other.lease(["q"], 5, worker="w2").tasks
    assert (len(first), len(second)) == (2, 1)
    assert store.lease(["q"], 5, worker="w1").tasks == ()
    store.ack([Ack(first[0].unit_id, first[0].token, "1")])
    assert len(other.lease(["q"], 5, worker="w2").tasks) == 1
    assert state.counter("inflight") == 3


def test_rate_limit_per_window(store: RedisStore, fake_clock: FakeClock) -> None:
    make(store, single(queue(rate_limit=RateLimit(count=3, window_ms=1000))), [f"r{i}" for i in range(10)])
    start = fake_clock.now_ms()
    assert len(store.lease(["q"], 2, worker="w").tasks) == 2
    lease = store.lease(["q"], 5, worker="w")
    assert len(lease.tasks) == 1
    blocked = store.lease(["q"], 5, worker="w")
    assert blocked.tasks == () and blocked.wake_at_ms == start + 1000
    fake_clock.advance(999)
    assert store.lease(["q"], 5, worker="w").tasks == ()
    fake_clock.advance(1)
    assert len(store.lease(["q"], 5, worker="w").tasks) == 3


def test_plain_queue_list_is_strict_preference(store: RedisStore) -> None:
    bp = blueprint([task("a", "one"), task("b", "two")], [queue("one"), queue("two")])
    make(store, bp, ["r1", "r2"])
    assert [t.queue for t in store.lease(["two", "one"], 3, worker="w").tasks] == ["two", "two", "one"]
