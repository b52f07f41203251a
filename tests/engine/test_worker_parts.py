"""The worker's parts one at a time: slots, the in-flight table, store retries, the extender and the writer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ottermq import keys
from ottermq.client import Client
from ottermq.clock import FakeClock
from ottermq.errors import InternalError, StoreUnavailable
from ottermq.settings import Settings
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Ack, AckResult, ExtendResult, ExtendStatus, Failure, LeasedTask
from ottermq.wasm import WasmRuntime
from ottermq.worker.backlog import BacklogProbe, concrete_queues
from ottermq.worker.execute import Completion
from ottermq.worker.inflight import InFlight, Slots
from ottermq.worker.maintenance import Extender
from ottermq.worker.outcome import Complete
from ottermq.worker.retry import GaveUp, StoreRetry
from ottermq.worker.writer import WorkerStats, Writer

from .worker_helpers import ECHO_WAT, chain_pipeline, make_executor, run_records, write_pipeline


def task(unit: str = "r1|a", token: str = "t1", deadline: int = 10_000) -> LeasedTask:
    return LeasedTask(unit, unit.split("|")[0], "a", None, 1, token, deadline, "work", False, "p", 1, "h", None, "{}", ())


# --- slots and the in-flight table ------------------------------------------------------------


def test_slots_take_every_free_slot_and_refuse_over_release() -> None:
    slots = Slots(4)
    assert slots.take_all(0.01) == 4
    assert slots.take_all(0.01) == 0  # none free: waits, then takes nothing
    slots.give(3)
    assert slots.take_all(0.01) == 3
    slots.give(4)
    with pytest.raises(InternalError, match="over-released"):
        slots.give(1)


def test_slots_wake_a_waiting_fetcher() -> None:
    slots = Slots(1)
    slots.take_all(0)
    threading.Timer(0.05, slots.give, args=(1,)).start()
    assert slots.take_all(5.0) == 1


def test_a_unit_leased_again_by_the_same_worker_is_a_separate_lease() -> None:
    # The first lease expired while its handler ran; the unit was leased again with a new token.
    inflight = InFlight()
    first, again = task(token="old", deadline=1_000), task(token="new", deadline=3_000)
    inflight.add([first], now_ms=0)
    inflight.add([again], now_ms=2_000)
    assert inflight.count() == 2
    inflight.remove([first])  # the old lease's (refused) result is written
    assert inflight.tasks() == [again]
    assert inflight.due_for_extension(2_600) == [again]  # still extended


def test_extension_results_mark_lost_leases_once() -> None:
    inflight = InFlight()
    a, b = task("r1|a", deadline=1_000), task("r2|a", deadline=1_000)
    inflight.add([a, b], now_ms=0)
    assert inflight.due_for_extension(400) == []  # more than half of the lease left
    assert inflight.due_for_extension(600) == [a, b]
    lost = inflight.extended([a, b], [ExtendResult("r1|a", ExtendStatus.EXTENDED, 1_600),
                                      ExtendResult("r2|a", ExtendStatus.LOST)])
    assert lost == [(b, "lost")]
    assert inflight.due_for_extension(1_000) == []  # a's new deadline is 1,600; b is lost
    assert inflight.due_for_extension(1_200) == [a]


def test_wait_empty_ends_when_the_last_task_is_removed_or_on_interrupt() -> None:
    inflight = InFlight()
    inflight.add([task()], now_ms=0)
    stop = threading.Event()
    threading.Timer(0.05, inflight.remove, args=([task()],)).start()
    assert inflight.wait_empty(5.0, stop)
    inflight.add([task()], now_ms=0)
    assert not inflight.wait_empty(0.05, stop)  # timed out

    def interrupt() -> None:
        stop.set()
        inflight.wake()

    threading.Timer(0.05, interrupt).start()
    assert not inflight.wait_empty(5.0, stop)


# --- retries ----------------------------------------------------------------------------------


def test_store_retry_rides_out_an_outage_and_logs_it_once(caplog: pytest.LogCaptureFixture) -> None:
    retry = StoreRetry("w", first_delay_s=0.001, max_delay_s=0.002)
    failures = iter(range(5))

    def flaky() -> str:
        if next(failures, None) is not None:
            raise StoreUnavailable("connection refused", "lease")
        return "ok"

    with caplog.at_level(logging.INFO, "ottermq.worker"):
        assert retry.call(flaky, threading.Event()) == "ok"
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["w: store unavailable (lease: connection refused); retrying until it is back",
                     lines[1]] and lines[1].startswith("w: store reachable again after")
    assert retry.outages == 1 and not retry.down


def test_store_retry_gives_up_when_told() -> None:
    retry = StoreRetry("w", first_delay_s=0.001, max_delay_s=0.002)
    give_up = threading.Event()
    calls = 0

    def down() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            give_up.set()
        raise StoreUnavailable("down")

    with pytest.raises(GaveUp):
        retry.call(down, give_up)
    assert calls == 3 and retry.down


def test_other_errors_are_not_retried() -> None:
    def broken() -> None:
        raise InternalError("script failed")

    with pytest.raises(InternalError):
        StoreRetry("w").call(broken, threading.Event())


# --- extender and writer against Redis, on a fake clock -----------------------------------------


@pytest.fixture
def fake_client(redis_url: str, tmp_path: Path, fake_clock: FakeClock) -> Iterator[Client]:
    settings = Settings(redis_url=redis_url, data_dir=tmp_path / ".ottermq")
    with Client(settings=settings, clock=fake_clock) as client:
        client.apply(chain_pipeline(tmp_path / "chain"))
        yield client


def test_extender_extends_at_half_life_and_stops_on_a_lost_lease(
        fake_client: Client, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    store = fake_client.store
    [created] = fake_client.run_many("chain", [{"n": 1}])
    [leased] = store.lease(["work"], 1, worker="w").tasks
    start = fake_clock.now_ms()
    assert leased.deadline_ms == start + 1_000  # the lease lasts the task's timeout
    inflight = InFlight()
    inflight.add([leased], start)
    extender = Extender(store, inflight, StoreRetry("w"), threading.Event())
    fake_clock.advance(400)
    assert extender.tick() == 0
    fake_clock.advance(200)
    assert extender.tick() == 1
    deadline = store.client.zscore(keys.shard_inflight(store.keyspace.shard_prefix(0)), leased.unit_id)
    assert deadline == start + 600 + 1_000
    # The worker stalls past its lease: the reaper takes the task back, and the extender learns it.
    fake_clock.advance(1_700)
    assert store.reap().reaped == 1
    with caplog.at_level(logging.INFO, "ottermq.worker"):
        assert extender.tick() == 1
    assert f"task {leased.unit_id}: lease lost" in caplog.text
    fake_clock.advance(5_000)
    assert extender.tick() == 0  # never again for a lost lease
    assert run_records(store, [created.run_id], ["a"])[created.run_id]["units"]["a"].attempt == 1


class RefusingStore(RedisStore):
    """A store whose ack fails as a broken script would: not an outage, so not retried."""

    def ack(self, acks: list[Ack]) -> list[AckResult]:  # type: ignore[override]
        raise InternalError("ack: script failed: boom")


def test_a_write_refused_for_good_is_logged_and_the_task_runs_again(
        fake_client: Client, fake_clock: FakeClock, runtime: WasmRuntime, caplog: pytest.LogCaptureFixture) -> None:
    store = fake_client.store
    [created] = fake_client.run_many("chain", [{"n": 1}])
    [leased] = store.lease(["work"], 1, worker="w").tasks
    inflight = InFlight()
    inflight.add([leased], fake_clock.now_ms())
    refusing = RefusingStore(store.client, store.settings, fake_clock)
    writer = Writer(refusing, make_executor(fake_client, runtime), inflight, StoreRetry("w"), WorkerStats(),
                    threading.Event())
    writer.done.put(Completion(leased, Complete('{"n":1}')))
    with caplog.at_level(logging.ERROR, "ottermq.worker"):
        assert writer.tick(timeout_s=1.0) == 1
    assert "could not write 1 results (ack: script failed: boom)" in caplog.text
    assert inflight.count() == 0  # not extended any more: the lease expires
    fake_clock.advance(1_001)
    assert store.reap().reaped == 1
    fake_clock.advance(20)  # the retry backoff
    [again] = store.lease(["work"], 1, worker="w2").tasks
    assert (again.unit_id, again.attempt) == (leased.unit_id, 2)
    assert run_records(store, [created.run_id], ["a"])[created.run_id]["units"]["a"].state == "running"


BATCH = """
name: batched
params:
  n: {type: integer, required: true}
queues:
  work: {type: fifo}
handlers:
  echo: {module: echo.wasm, abi: core, memory: 2Mi, timeout: 1s}
tasks:
  a:
    handler: echo
    queue: work
    batch: {size: 3}
    input: {n: "{{ params.n }}"}
"""


def test_a_batch_call_splits_its_outputs_back_to_the_tasks(
        fake_client: Client, runtime: WasmRuntime, tmp_path: Path) -> None:
    fake_client.apply(write_pipeline(tmp_path / "batched", BATCH, {"echo.wasm": ECHO_WAT}))
    fake_client.run_many("batched", [{"n": n} for n in range(3)])
    leased = fake_client.store.lease(["work"], 3, worker="w").tasks
    executor = make_executor(fake_client, runtime)
    assert executor.batch_size(leased[0]) == 3
    completions = executor.run_batch(list(leased))
    assert [c.decision for c in completions] == [Complete(f'{{"n":{n}}}') for n in range(3)]
    assert all(c.items == () and isinstance(c.elapsed_ms, float) and isinstance(c.stderr, str) for c in completions)


MIXED = """
name: mixed
queues:
  q1: {type: fifo}
  q2: {type: fifo}
  both: {type: composite, strategy: strict, members: [q1, q2]}
handlers:
  echo: {module: echo.wasm, abi: core, memory: 2Mi, timeout: 1s}
tasks:
  t1: {handler: echo, queue: q1, input: {}, retry: {max_attempts: 3, backoff: fixed, initial: 100ms, max: 100ms}}
  t2: {handler: echo, queue: q2, input: {}}
"""


def test_the_backlog_counts_ready_and_due_delayed_tasks_of_a_composite_s_members(
        fake_client: Client, fake_clock: FakeClock, tmp_path: Path) -> None:
    fake_client.apply(write_pipeline(tmp_path / "mixed", MIXED, {"echo.wasm": ECHO_WAT}))
    store = fake_client.store
    assert concrete_queues(fake_client.catalog, ["both", "work", "q1"]) == ["q1", "q2", "work"]
    fake_client.run_many("mixed", [{}] * 3)
    probe = BacklogProbe(store, ["both"], fake_client.catalog)
    first = probe()
    assert (first.backlog, first.in_flight, first.finished) == (6, 0, 0)
    leased = store.lease(["q1"], 2, worker="w").tasks
    [done, failing] = leased
    store.ack([Ack(done.unit_id, done.token, "{}")])
    store.fail([Failure(failing.unit_id, failing.token, "error", "boom", 100)])
    second = probe()
    assert (second.backlog, second.in_flight, second.finished) == (4, 0, 2)  # the retry is not due yet
    fake_clock.advance(100)
    third = probe()
    assert third.backlog == 5 and third.at_ms == second.at_ms + 100  # now it is: promoted, counted
