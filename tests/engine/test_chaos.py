"""Chaos: 3 worker processes run 5,000 runs of a 3-task DAG while one of them is killed every 2 seconds.

The supervisor (`ottermq worker --processes 3`) replaces each killed worker. Tasks the
killed worker held come back when their 1-second leases expire. At the end every run has
succeeded, every task's result was recorded exactly once (one `task.succeeded` event per
task, the queue's processed counter equal to the number of tasks, every output what the
DAG computes) and the dead-letter queue is empty.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from ottermq.client import Client
from ottermq.settings import Settings

from .process_helpers import children_of, kill_tree, ottermq_process, stop
from .worker_helpers import chain_outputs, chain_pipeline, event_counts, run_records, wait_until

RUNS = 5_000
TASKS = 3 * RUNS
KILL_EVERY_S = 2.0


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kill_9_a_worker_every_2_seconds(redis_url: str, tmp_path: Path) -> None:
    settings = Settings(redis_url=redis_url, data_dir=tmp_path / ".ottermq", events_maxlen=1_000_000)
    with Client(settings=settings) as client:
        client.apply(chain_pipeline(tmp_path / "chain", timeout="1s", attempts=25))
        t0 = time.monotonic()
        created = client.run_many("chain", [{"n": n} for n in range(RUNS)])
        create_s = time.monotonic() - t0
        ids = [r.run_id for r in created]
        log = tmp_path / "supervisor.log"
        started = time.monotonic()
        supervisor = ottermq_process(settings, ["worker", "-q", "work", "-c", "8", "-p", "3", "--grace", "5",
                                                "--name", "chaos"], log, tmp_path)
        kills = 0
        try:
            wait_until(lambda: len(children_of(supervisor.pid)) == 3, 30, "3 workers")
            next_kill = time.monotonic() + KILL_EVERY_S
            while (stats := client.inspect.queue_stats("work")).processed < TASKS:
                assert supervisor.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() - started < 500, f"only {stats.processed} of {TASKS} tasks done"
                if time.monotonic() >= next_kill:
                    # The oldest worker: surely past its start-up, holding leases.
                    workers = children_of(supervisor.pid)
                    if workers:
                        os.kill(workers[0], signal.SIGKILL)
                        kills += 1
                    next_kill += KILL_EVERY_S
                time.sleep(0.1)
            elapsed = time.monotonic() - started
            t0 = time.monotonic()
            assert stop(supervisor, timeout=30) == 0
            stop_s = time.monotonic() - t0
        finally:
            kill_tree(supervisor)

        text = log.read_text()
        records = run_records(client.store, ids, "abc")
        stats = client.inspect.queue_stats("work")
        events = event_counts(client.store, "task.succeeded", "task.expired", "task.leased")
        succeeded, expired, leased = events["task.succeeded"], events["task.expired"], events["task.leased"]
        redelivered = sum(1 for r in records.values() for u in r["units"].values() if u.attempt > 1)
        print(f"\nchaos: {RUNS} runs ({TASKS} tasks) created in {create_s:.1f}s, done in {elapsed:.1f}s "
              f"({TASKS / elapsed:.0f} tasks/s) with {kills} kills; {sum(expired.values())} leases expired, "
              f"{redelivered} tasks ran more than once, {sum(leased.values())} leases for {TASKS} tasks; "
              f"supervisor stopped in {stop_s:.1f}s")

    assert kills >= 1, "the work was done before the first kill"
    assert {r["state"] for r in records.values()} == {"succeeded"}
    for n, rid in enumerate(ids):
        assert {t: u.output for t, u in records[rid]["units"].items()} == chain_outputs(n), rid
    # Each task's result recorded exactly once, however many times it was leased.
    assert len(succeeded) == TASKS and set(succeeded.values()) == {1}
    assert stats.processed == TASKS and stats.in_flight == 0 and stats.ready == 0
    assert stats.dead_letters == 0 and stats.dead_lettered == 0
    # Every kill is reported with its cause and followed by a replacement.
    assert text.count("killed by SIGKILL") == kills
    assert text.count("starting a replacement") == kills
    assert redelivered > 0 and sum(expired.values()) > 0
