"""The worker under faults: races at the end of a burst, refused writes, outages, shutdown, Redis restarts."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from ottermq.client import Client
from ottermq.embedded import ServerProcess
from ottermq.errors import StoreUnavailable
from ottermq.settings import Settings
from ottermq.store.catalog import Catalog
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import Lease
from ottermq.wasm import WasmRuntime

from .worker_helpers import (
    ECHO_WAT,
    WorkerThread,
    chain_outputs,
    chain_pipeline,
    event_counts,
    make_worker,
    nap_pipeline,
    run_records,
    wait_until,
    write_pipeline,
)

FAN = """
name: fan
params:
  items: {type: array, default: [1, 2, 3, 4, 5]}
queues:
  items: {type: fifo, max_size: 2, on_full: reject}
handlers:
  echo: {module: echo.wasm, abi: core, memory: 2Mi, timeout: 1s}
tasks:
  split:
    handler: echo
    queue: items
    for_each: "{{ params.items }}"
    input: {x: "{{ item }}"}
    retry: {max_attempts: 2, backoff: fixed, initial: 10ms, max: 10ms}
"""


@pytest.fixture
def client(redis_url: str, tmp_path: Path) -> Iterator[Client]:
    with Client(settings=Settings(redis_url=redis_url, data_dir=tmp_path / ".ottermq")) as c:
        yield c


def in_flight(client: Client, queue: str = "work") -> int:
    return client.inspect.queue_stats(queue).in_flight


# --- the end of a burst -----------------------------------------------------------------------


class SlowEmptyLeaseStore(RedisStore):
    """Answers an empty lease late, as a busy machine does: the writer acks meanwhile."""

    def lease(self, queues: Sequence[str], max_tasks: int, **kw: object) -> Lease:  # type: ignore[override]
        lease = super().lease(queues, max_tasks, **kw)  # type: ignore[arg-type]
        if not lease.tasks:
            time.sleep(0.05)
        return lease


def test_burst_waits_for_the_work_its_own_results_make_ready(client: Client, runtime: WasmRuntime, tmp_path: Path) -> None:
    # One executor: a's result is written while the lease that found nothing is on its way back.
    # Had the worker judged "nothing running" after that lease, it would exit with b still to run.
    client.apply(chain_pipeline(tmp_path / "chain"))
    created = client.run_many("chain", [{"n": n} for n in range(3)])
    slow = SlowEmptyLeaseStore(client.store.client, client.settings, client.clock)
    worker = make_worker(client, runtime, ["work"], store=slow, concurrency=1, burst=True)
    with WorkerThread(worker) as thread:
        stats = thread.join(timeout=30)
    assert stats.succeeded == 9
    records = run_records(client.store, [r.run_id for r in created], "abc")
    assert {r["state"] for r in records.values()} == {"succeeded"}


# --- refused writes and outages in the middle of a task ---------------------------------------


def test_a_fan_out_into_a_full_queue_fails_its_task_and_the_worker_carries_on(
        client: Client, runtime: WasmRuntime, tmp_path: Path) -> None:
    client.apply(write_pipeline(tmp_path / "fan", FAN, {"echo.wasm": ECHO_WAT}))
    client.apply(chain_pipeline(tmp_path / "chain"))
    fan = client.run("fan")
    chain = client.run("chain", {"n": 7})
    worker = make_worker(client, runtime, ["items", "work"], burst=True)
    with WorkerThread(worker) as thread:
        stats = thread.join(timeout=30)
    assert client.get(fan.run_id).summary.state == "failed"
    [dead] = client.inspect.dead_letters("items")
    assert dead.unit_id == f"{fan.run_id}|split" and dead.attempts == 2
    assert "queue 'items' is full" in dead.error
    assert (stats.retried, stats.dead) == (1, 1)
    # The writer survived the refusal: later work was written back.
    assert client.get(chain.run_id).summary.state == "succeeded"


class FlakyCatalog(Catalog):
    """Redis goes away for the first reads of the plan and the module, then comes back."""

    def __init__(self, *args: object, failures: int) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.failures = {"plan": failures, "module": failures}

    def _flaky(self, what: str) -> None:
        if self.failures[what] > 0:
            self.failures[what] -= 1
            raise StoreUnavailable("Redis unreachable: Connection refused", f"{what} read")

    def plan_json(self, plan_hash: str) -> str:
        self._flaky("plan")
        return super().plan_json(plan_hash)

    def module(self, digest: str) -> bytes:
        self._flaky("module")
        return super().module(digest)


def test_an_outage_while_loading_a_plan_or_module_is_waited_out_not_dead_lettered(
        client: Client, runtime: WasmRuntime, tmp_path: Path) -> None:
    client.apply(chain_pipeline(tmp_path / "chain"))
    created = client.run("chain", {"n": 1})
    catalog = FlakyCatalog(client.store.client, client.settings, failures=3)
    worker = make_worker(client, runtime, ["work"], catalog=catalog, burst=True)
    with WorkerThread(worker) as thread:
        stats = thread.join(timeout=30)
    assert catalog.failures == {"plan": 0, "module": 0}
    assert (stats.succeeded, stats.retried, stats.dead) == (3, 0, 0)
    units = run_records(client.store, [created.run_id], "abc")[created.run_id]["units"]
    assert {name: (u.state, u.attempt) for name, u in units.items()} == {n: ("succeeded", 1) for n in "abc"}
    assert worker.retry.outages >= 1


# --- shutdown ---------------------------------------------------------------------------------


def test_stop_lets_running_tasks_finish_and_leases_nothing_more(
        client: Client, runtime: WasmRuntime, tmp_path: Path) -> None:
    client.apply(nap_pipeline(tmp_path / "nap", 300))
    created = client.run_many("nap", [{"n": n} for n in range(8)])
    worker = make_worker(client, runtime, ["work"], concurrency=4)
    with WorkerThread(worker, grace_s=10) as thread:
        wait_until(lambda: worker.running == 4, 10, "4 running tasks")
        worker.stop()
        stats = thread.join(timeout=10)
    assert (stats.succeeded, stats.abandoned, stats.lost) == (4, 0, 0)
    assert in_flight(client) == 0
    records = run_records(client.store, [r.run_id for r in created], "a")
    units = sorted((r["units"]["a"].state, r["units"]["a"].attempt) for r in records.values())
    assert units == [("ready", 0)] * 4 + [("succeeded", 1)] * 4  # the rest were never leased


def test_tasks_still_running_after_the_grace_period_run_again_elsewhere(
        client: Client, runtime: WasmRuntime, tmp_path: Path) -> None:
    client.apply(nap_pipeline(tmp_path / "nap", 800))
    created = client.run_many("nap", [{"n": n} for n in range(2)])
    worker = make_worker(client, runtime, ["work"], concurrency=2, name="first")
    with WorkerThread(worker, grace_s=0.05) as thread:
        wait_until(lambda: worker.running == 2, 10, "2 running tasks")
        started = time.monotonic()
        worker.stop()
        stats = thread.join(timeout=10)
    assert time.monotonic() - started < 0.6  # did not wait for the 800 ms handlers
    assert (stats.succeeded, stats.abandoned) == (0, 2)
    # Nothing was written: the leases expire (1 s, not extended) and another worker runs the tasks again.
    other = make_worker(client, runtime, ["work"], concurrency=2, burst=True, name="second")
    with WorkerThread(other) as thread:
        assert thread.join(timeout=20).succeeded == 2
    records = run_records(client.store, [r.run_id for r in created], "a")
    assert {(r["units"]["a"].state, r["units"]["a"].attempt) for r in records.values()} == {("succeeded", 2)}


# --- Redis restarts ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_worker_survives_redis_restarts_busy_and_idle(
        durable_redis: ServerProcess, runtime: WasmRuntime, tmp_path: Path) -> None:
    settings = Settings(redis_url=durable_redis.url, data_dir=tmp_path / ".ottermq", events_maxlen=1_000_000)
    with Client(settings=settings) as client:
        client.apply(chain_pipeline(tmp_path / "chain", timeout="5s"))
        created = client.run_many("chain", [{"n": n} for n in range(300)])
        worker = make_worker(client, runtime, ["work"], concurrency=4)
        with WorkerThread(worker) as thread:
            wait_until(lambda: client.inspect.queue_stats("work").processed >= 150, 30, "150 tasks done")
            durable_redis.restart()  # SIGTERM: the server writes its AOF and comes back with it
            ids = [r.run_id for r in created]
            wait_until(lambda: {r["state"] for r in run_records(client.store, ids, "abc").values()} == {"succeeded"},
                       60, "every run to succeed after the restart")
            assert thread.alive
            # Idle now, blocked on its wake-up subscription: restart again, then give it new work.
            wait_until(lambda: worker.running == 0, 10, "an idle worker")
            durable_redis.restart()
            started = time.monotonic()
            late = client.run("chain", {"n": 1000})
            detail = client.wait(late.run_id, timeout=20)
            assert detail.summary.state == "succeeded" and time.monotonic() - started < 5
            worker.stop()
            stats = thread.join(timeout=20)
        records = run_records(client.store, ids + [late.run_id], "abc")
        for rid, n in zip(ids + [late.run_id], [*range(300), 1000], strict=True):
            assert {t: u.output for t, u in records[rid]["units"].items()} == chain_outputs(n)
        succeeded = event_counts(client.store, "task.succeeded")["task.succeeded"]
        assert len(succeeded) == 903 and set(succeeded.values()) == {1}  # each result recorded once
        assert worker.retry.outages >= 1 and stats.succeeded == 903


@pytest.mark.slow
def test_stopping_while_redis_is_down_ends_within_the_grace_period(
        durable_redis: ServerProcess, runtime: WasmRuntime, tmp_path: Path) -> None:
    settings = Settings(redis_url=durable_redis.url, data_dir=tmp_path / ".ottermq")
    with Client(settings=settings) as client:
        client.apply(nap_pipeline(tmp_path / "nap", 300))
        created = client.run_many("nap", [{"n": n} for n in range(4)])
        worker = make_worker(client, runtime, ["work"], concurrency=4)
        with WorkerThread(worker, grace_s=1.0) as thread:
            wait_until(lambda: worker.running == 4, 10, "4 running tasks")
            durable_redis.stop()
            started = time.monotonic()
            worker.stop()
            stats = thread.join(timeout=10)
        # The results could not be written: given up when the grace period ended, not retried forever.
        assert time.monotonic() - started < 2.5
        assert (stats.succeeded, stats.abandoned) == (0, 4)
        durable_redis.restart()
        other = make_worker(client, runtime, ["work"], concurrency=4, burst=True, name="second")
        with WorkerThread(other) as thread:
            assert thread.join(timeout=20).succeeded == 4
        records = run_records(client.store, [r.run_id for r in created], "a")
        assert {(r["units"]["a"].state, r["units"]["a"].attempt) for r in records.values()} == {("succeeded", 2)}
