"""Many consumer processes drain 20,000 tasks: each acked once, none lost; kill -9, cluster, restart."""

from __future__ import annotations

import time
from pathlib import Path

from concurrency_harness import Fleet, create_runs, delivery, diamond, run_states, wait_all_finished

from ottermq import keys
from ottermq.clock import SystemClock
from ottermq.embedded import ClusterProcess, ServerProcess
from ottermq.settings import Settings
from ottermq.store.connection import client_from_url
from ottermq.store.redis_store import RedisStore

RUNS = 5_000  # x 4 tasks = 20,000 tasks
TASKS = 4 * RUNS


def system_store(url: str, shards: int = 1, **kw: int) -> RedisStore:
    settings = Settings(redis_url=url, shards=shards, **kw)
    return RedisStore(client_from_url(url), settings, SystemClock())


def drain(
    url: str,
    shards: int,
    tmp_path: Path,
    *,
    kill_one: bool = False,
    restart: ServerProcess | None = None,
    lease_ms: int = 30_000,
    work_ms: int = 0,
) -> None:
    store = system_store(url, shards)
    run_ids = create_runs(store, diamond(), RUNS)
    fleet = Fleet(url, shards, tmp_path, lease_ms=lease_ms, work_ms=work_ms)
    try:
        fleet.start(8)
        if kill_one:
            _wait_mid_batch(fleet, 0, 300)
            fleet.kill(0)
            _assert_redelivered_within(store, fleet, seconds=lease_ms / 1000 + 2.0)
        if restart is not None:
            _wait_for_acks(fleet, TASKS // 4)
            restart.restart()
        wait_all_finished(store, timeout=120)
        fleet.stop()
    finally:
        fleet.terminate()
    d = delivery(fleet)
    every = {f"{r}|{t}" for r in run_ids for t in "abcd"}
    assert set(d.done) == every, f"{len(every - set(d.done))} tasks never acked"
    assert max(d.done.values()) == 1
    for unit, leases in d.leases.items():
        if len(leases) > 1:
            # A second delivery only follows a lease that expired: every lease has its own attempt.
            attempts = [a for _, a in leases]
            assert len(set(attempts)) == len(attempts), (unit, leases)
            assert kill_one or restart is not None, f"{unit} leased twice without a failure: {leases}"
    assert run_states(system_store(url, shards), run_ids) == {"succeeded": RUNS}
    if kill_one:
        # Redelivered: the killed consumer's units, and (on a starved machine) units whose live
        # consumer overran the short lease and saw its ack refused.
        redelivered = {u: leases for u, leases in d.leases.items() if len(leases) > 1}
        assert any(leases[0][0] == 0 for leases in redelivered.values())
        assert all(any(c == 0 for c, _ in leases) or u in d.lost for u, leases in redelivered.items())
    if restart is not None:
        assert d.outages > 0


def _wait_mid_batch(fleet: Fleet, index: int, lines: int, timeout: float = 60) -> None:
    """Until the consumer has logged ``lines`` lines and holds a leased batch it has not acked."""
    deadline = time.monotonic() + timeout
    log = fleet.consumers[index].log
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        if text.count("\n") >= lines and text.rstrip("\n").rsplit("\n", 1)[-1].startswith("L "):
            return
        time.sleep(0.002)
    raise AssertionError("the consumer never got going")


def _assert_redelivered_within(store: RedisStore, fleet: Fleet, seconds: float) -> None:
    """The killed consumer's unacked tasks are taken back within about one lease period:
    back in the queue, or leased again (a later attempt), or already done again."""
    leased: set[str] = set()
    for line in fleet.logs()[0][1]:
        kind, unit = line.split()[:2]
        (leased.add if kind == "L" else leased.discard)(unit)
    assert leased
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if all(_taken_back(store, unit) for unit in leased):
            return
        time.sleep(0.02)
    raise AssertionError(f"the killed consumer's tasks were not taken back within {seconds} s")


def _taken_back(store: RedisStore, unit: str) -> bool:
    run_id = unit.split("|")[0]
    state, attempt = store.client.hmget(
        keys.run(store.keyspace.run_prefix(run_id), run_id), keys.unit_field(unit, "st"), keys.unit_field(unit, "a")
    )
    return state in ("ready", "delayed", "succeeded") or int(attempt or 0) >= 2


def _wait_for_acks(fleet: Fleet, acks: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(len(d) for d in [delivery(fleet).done]) >= acks:
            return
        time.sleep(0.05)
    raise AssertionError("the fleet never got going")


def test_eight_consumers_drain_20k_tasks(redis_url: str, tmp_path: Path) -> None:
    drain(redis_url, 1, tmp_path)


def test_kill_minus_nine_mid_batch_redelivers_after_lease(redis_url: str, tmp_path: Path) -> None:
    drain(redis_url, 1, tmp_path, kill_one=True, lease_ms=500, work_ms=20)


def test_cluster_with_six_shards(redis_cluster: ClusterProcess, cluster_url: str, tmp_path: Path) -> None:
    url = "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in redis_cluster.addresses)
    drain(url, 6, tmp_path)


def test_server_restart_mid_drain(durable_redis: ServerProcess, tmp_path: Path) -> None:
    # A lease whose reply is lost in the outage is only recovered when it expires: keep it short.
    drain(durable_redis.url, 1, tmp_path, restart=durable_redis, lease_ms=1000)
