"""Every queue type against a small reference model, under random interleavings (hypothesis).

The model keeps, per unit: queue, priority, state, sequence, due time, attempt, lease
deadline; it orders ready units the way the store documents (FIFO/delayed: arrival,
LIFO: reverse arrival, priority: priority then arrival, composite: strict or smooth
weighted round robin) and replays retries, backoff and lease expiry on a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from store_helpers import blueprint, queue, task

from ottermq import keys
from ottermq.clock import FakeClock
from ottermq.store.blueprint import Backoff, BackoffKind, CompositeStrategy, QueueKind, RunBlueprint
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, AckStatus, FailStatus, Failure, RunRequest

MAX_ATTEMPTS = 3
LEASE_MS = 1000
BACKOFF_MS = 100
LEVELS = 5
BAND = 2**40


@dataclass
class Unit:
    uid: str
    queue: str
    prio: int
    state: str = "ready"
    seq: int = 0
    due: int = 0
    attempt: int = 0
    token: str = ""
    deadline: int = 0


@dataclass(frozen=True)
class Layout:
    kind: QueueKind
    members: tuple[str, ...] = ("q",)
    strategy: CompositeStrategy = CompositeStrategy.STRICT
    weights: tuple[int, ...] = ()

    @property
    def target(self) -> str:
        return "c" if self.kind is QueueKind.COMPOSITE else "q"

    def member_kind(self) -> QueueKind:
        return QueueKind.FIFO if self.kind is QueueKind.COMPOSITE else self.kind


class Model:
    def __init__(self, layout: Layout, clock: FakeClock) -> None:
        self.layout, self.clock = layout, clock
        self.units: dict[str, Unit] = {}
        self.seq: dict[str, int] = {}
        self.cw = [0] * len(layout.members)

    def place(self, unit: Unit, delay: int) -> None:
        if delay > 0:
            unit.state, unit.due = "delayed", self.clock.now_ms() + delay
        else:
            self.seq[unit.queue] = self.seq.get(unit.queue, 0) + 1
            unit.state, unit.seq = "ready", self.seq[unit.queue]

    def score(self, unit: Unit) -> int:
        kind = self.layout.member_kind()
        if kind is QueueKind.LIFO:
            return -unit.seq
        if kind is QueueKind.PRIORITY:
            p = min(max(unit.prio, 0), LEVELS - 1)
            return (LEVELS - 1 - p) * BAND + unit.seq
        return unit.seq

    def promote(self, q: str) -> None:
        now = self.clock.now_ms()
        due = sorted(
            (u for u in self.units.values() if u.queue == q and u.state == "delayed" and u.due <= now),
            key=lambda u: (u.due, u.uid),
        )
        for unit in due:
            self.place(unit, 0)

    def take(self, q: str, n: int, token: str) -> list[str]:
        if n <= 0:
            return []  # a queue the batch never reaches is not touched (its due units wait)
        self.promote(q)
        ready = sorted((u for u in self.units.values() if u.queue == q and u.state == "ready"), key=self.score)[:n]
        for unit in ready:
            unit.state, unit.attempt, unit.token = "running", unit.attempt + 1, token
            unit.deadline = self.clock.now_ms() + LEASE_MS
        return [u.uid for u in ready]

    def lease(self, n: int, token: str) -> list[str]:
        layout = self.layout
        if layout.kind is not QueueKind.COMPOSITE:
            return self.take("q", n, token)
        got: list[str] = []
        if layout.strategy is CompositeStrategy.STRICT:
            for member in layout.members:
                got += self.take(member, n - len(got), token)
            return got
        open_ = [True] * len(layout.members)
        while len(got) < n:
            best, total = None, 0
            for j, w in enumerate(layout.weights):
                if open_[j]:
                    total += w
                    if best is None or self.cw[j] + w > self.cw[best] + layout.weights[best]:
                        best = j
            if best is None:
                break
            taken = self.take(layout.members[best], 1, token)
            if not taken:
                open_[best] = False
                continue
            for j, w in enumerate(layout.weights):
                if open_[j]:
                    self.cw[j] += w
            self.cw[best] -= total
            got += taken
        return got

    def fail(self, unit: Unit, delay: int) -> str:
        if unit.attempt >= MAX_ATTEMPTS:
            unit.state = "dead"
            return "dead"
        self.place(unit, delay)
        return "retried"

    def reap(self) -> int:
        now = self.clock.now_ms()
        expired = sorted(
            (u for u in self.units.values() if u.state == "running" and u.deadline <= now), key=lambda u: (u.deadline, u.uid)
        )
        for unit in expired:
            self.fail(unit, BACKOFF_MS)
        return len(expired)


class QueueMachine(RuleBasedStateMachine):
    layout: Layout
    make_store: Callable[[], tuple[RedisStore, FakeClock]]

    def __init__(self) -> None:
        super().__init__()
        self.store, self.clock = self.make_store()
        self.model = Model(self.layout, self.clock)
        self.count = 0
        self.blueprints: dict[tuple[str, int], RunBlueprint] = {}

    def blueprint_for(self, member: str, delay: int) -> RunBlueprint:
        bp = self.blueprints.get((member, delay))
        if bp is None:
            layout = self.layout
            queues = [queue(m, kind=layout.member_kind(), levels=LEVELS) for m in layout.members]
            if layout.kind is QueueKind.COMPOSITE:
                queues.append(
                    queue("c", kind=QueueKind.COMPOSITE, members=layout.members, strategy=layout.strategy, weights=layout.weights)
                )
            backoff = Backoff(kind=BackoffKind.FIXED, initial_ms=BACKOFF_MS, max_ms=BACKOFF_MS)
            bp = blueprint(
                [task("a", member, delay_ms=delay, max_attempts=MAX_ATTEMPTS, backoff=backoff)],
                queues,
                version=len(self.blueprints) + 1,
            )
            self.blueprints[(member, delay)] = bp
        return bp

    def running(self) -> list[Unit]:
        return sorted((u for u in self.model.units.values() if u.state == "running"), key=lambda u: u.uid)

    @rule(member=st.integers(0, 2), prio=st.integers(-1, LEVELS), delay=st.sampled_from([0, 0, 50, 200]))
    def enqueue(self, member: int, prio: int, delay: int) -> None:
        name = self.layout.members[member % len(self.layout.members)]
        self.count += 1
        rid = f"r{self.count:04d}"
        self.store.create_run(self.blueprint_for(name, delay), RunRequest(run_id=rid, priority=prio))
        unit = Unit(uid=f"{rid}|a", queue=name, prio=prio)
        self.model.units[unit.uid] = unit
        self.model.place(unit, delay)

    @rule(n=st.integers(1, 5))
    def lease(self, n: int) -> None:
        got = self.store.lease([self.layout.target], n, worker="w", lease_ms=LEASE_MS)
        expected = self.model.lease(n, "")
        assert [t.unit_id for t in got.tasks] == expected
        for t in got.tasks:
            unit = self.model.units[t.unit_id]
            unit.token = t.token
            assert t.attempt == unit.attempt

    @rule(pick=st.integers(0, 100))
    def ack(self, pick: int) -> None:
        running = self.running()
        if running:
            unit = running[pick % len(running)]
            assert self.store.ack([Ack(unit.uid, unit.token, "1")])[0].status is AckStatus.DONE
            unit.state = "done"

    @rule(pick=st.integers(0, 100), delay=st.sampled_from([0, 30, 300]))
    def fail(self, pick: int, delay: int) -> None:
        running = self.running()
        if running:
            unit = running[pick % len(running)]
            [res] = self.store.fail([Failure(unit.uid, unit.token, "error", "x", delay)])
            expected = self.model.fail(unit, delay)
            assert res.status is (FailStatus.DEAD if expected == "dead" else FailStatus.RETRIED)

    @rule(pick=st.integers(0, 100))
    def stale_ack(self, pick: int) -> None:
        running = self.running()
        if running:
            unit = running[pick % len(running)]
            assert self.store.ack([Ack(unit.uid, "stale", "1")])[0].status is AckStatus.LOST

    @rule(ms=st.sampled_from([10, 60, 250, 1100]))
    def advance(self, ms: int) -> None:
        self.clock.advance(ms)
        assert self.store.reap().reaped == self.model.reap()

    @invariant()
    def sizes_match(self) -> None:
        p = self.store.keyspace.shard_prefix(0)
        client = self.store.client
        for member in self.layout.members:
            states = [u.state for u in self.model.units.values() if u.queue == member]
            assert client.zcard(keys.queue_ready(p, member)) == states.count("ready")
            assert client.zcard(keys.queue_delayed(p, member)) == states.count("delayed")
            assert client.zcard(keys.queue_dead(p, member)) == states.count("dead")
        assert client.zcard(keys.shard_inflight(p)) == len(self.running())


LAYOUTS = {
    "fifo": Layout(QueueKind.FIFO),
    "lifo": Layout(QueueKind.LIFO),
    "priority": Layout(QueueKind.PRIORITY),
    "delayed": Layout(QueueKind.DELAYED),
    "composite-strict": Layout(QueueKind.COMPOSITE, members=("x", "y")),
    "composite-weighted": Layout(
        QueueKind.COMPOSITE, members=("x", "y", "z"), strategy=CompositeStrategy.WEIGHTED, weights=(3, 2, 1)
    ),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_queue_matches_model(name: str, make_store, redis_url: str) -> None:
    def fresh() -> tuple[RedisStore, FakeClock]:
        clock = FakeClock()
        store = make_store(clock=clock)
        store.client.flushall()
        return store, clock

    machine = type(f"Machine_{name}", (QueueMachine,), {"layout": LAYOUTS[name], "make_store": staticmethod(fresh)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
