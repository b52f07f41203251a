"""`ottermq worker` as processes: SIGTERM during a busy run, and the supervisor replacing and scaling them."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ottermq.cli.main import main
from ottermq.client import Client
from ottermq.clock import FakeClock
from ottermq.settings import Settings
from ottermq.worker.autoscale import ScalePolicy
from ottermq.worker.backlog import BacklogProbe
from ottermq.worker.children import ChildCommand, ProcessLauncher, describe_exit, settings_env
from ottermq.worker.supervisor import Supervisor

from .process_helpers import children_of, kill_tree, ottermq_process
from .worker_helpers import chain_outputs, chain_pipeline, event_counts, nap_pipeline, run_records, wait_until


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    return Settings(redis_url=redis_url, data_dir=tmp_path / ".ottermq", events_maxlen=1_000_000)


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with Client(settings=settings) as c:
        yield c


def test_settings_travel_to_children_exactly(settings: Settings) -> None:
    from ottermq.settings import load_settings

    env = settings_env(settings)
    assert env["OTTERMQ_LEASE"] == "30000ms" and env["OTTERMQ_EVENTS_MAXLEN"] == "1000000"
    assert "OTTERMQ_REDIS_SERVER" not in env  # None: not set
    assert load_settings({}, environ=env, cwd=Path("/nonexistent")) == settings


def test_exits_are_described() -> None:
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(0) == "exited with code 0"


def test_processes_must_be_a_count_auto_or_a_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", "--processes", "3:1"]) == 2
    assert "--processes `3:1`: need 1 <= MIN <= MAX" in capsys.readouterr().err


# --- SIGTERM ----------------------------------------------------------------------------------


def test_sigterm_during_a_busy_run_loses_nothing_and_runs_nothing_twice(
        client: Client, settings: Settings, tmp_path: Path) -> None:
    client.apply(nap_pipeline(tmp_path / "nap", 300))
    created = client.run_many("nap", [{"n": n} for n in range(12)])
    ids = [r.run_id for r in created]
    log = tmp_path / "worker.log"
    worker = ottermq_process(settings, ["worker", "-q", "work", "-c", "4", "--grace", "10", "--name", "w1"], log, tmp_path)
    try:
        wait_until(lambda: client.inspect.queue_stats("work").in_flight == 4, 30, "4 tasks in flight")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0
    finally:
        kill_tree(worker)
    text = log.read_text()
    assert "w1: stopping (SIGTERM): finishing 4 running task(s)" in text
    stats = client.inspect.queue_stats("work")
    assert stats.in_flight == 0  # nothing left leased
    units = [r["units"]["a"] for r in run_records(client.store, ids, "a").values()]
    done = [u for u in units if u.state == "succeeded"]
    assert len(done) >= 4 and all(u.attempt == 1 for u in done)  # the tasks in flight finished, once
    assert all((u.state, u.attempt) == ("ready", 0) for u in units if u.state != "succeeded")
    assert f"w1: stopped: {len(done)} succeeded" in text
    # Another worker does the rest; nothing was leased twice.
    rest = ottermq_process(settings, ["worker", "-q", "work", "-c", "4", "--burst"], log, tmp_path)
    try:
        assert rest.wait(60) == 0
    finally:
        kill_tree(rest)
    units = [r["units"]["a"] for r in run_records(client.store, ids, "a").values()]
    assert {(u.state, u.attempt) for u in units} == {("succeeded", 1)}
    leased = event_counts(client.store, "task.leased")["task.leased"]
    assert len(leased) == 12 and set(leased.values()) == {1}


# --- the supervisor ---------------------------------------------------------------------------


class SupervisorThread:
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.code: int | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.code = self.supervisor.run()

    def __enter__(self) -> SupervisorThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.supervisor.stop()
        self.supervisor.stop()
        self._thread.join(30)
        for child in self.supervisor.children:
            kill_tree(child.process)

    def join(self, timeout: float = 30) -> int:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the supervisor did not return"
        assert self.code is not None
        return self.code


def consuming(log: Path) -> set[str]:
    """Names of the child workers that have started consuming, from their log."""
    text = log.read_text() if log.exists() else ""
    return {line.split(": consuming")[0].rsplit(" ", 1)[-1] for line in text.splitlines() if ": consuming " in line}


def launcher(settings: Settings, tmp_path: Path, concurrency: int) -> ProcessLauncher:
    log = (tmp_path / "children.log").open("ab")
    return ProcessLauncher(ChildCommand(settings, ("work",), concurrency, 5.0), stdout=log, stderr=log)


def test_supervisor_replaces_a_killed_worker_and_forwards_stop(
        client: Client, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client.apply(chain_pipeline(tmp_path / "chain"))
    supervisor = Supervisor(launcher(settings, tmp_path, 2), minimum=2, name="sup", tick_s=0.05)
    caplog.set_level(logging.INFO, "ottermq.supervisor")
    log = tmp_path / "children.log"
    with SupervisorThread(supervisor) as thread:
        wait_until(lambda: consuming(log) == {"sup-1", "sup-2"}, 20, "2 workers consuming")
        victim = supervisor.children[0]
        os.kill(victim.pid, signal.SIGKILL)
        wait_until(lambda: supervisor.restarts == 1 and len(supervisor.children) == 2, 10, "a replacement")
        assert victim.pid not in [c.pid for c in supervisor.children]
        wait_until(lambda: "sup-3" in consuming(log), 20, "the replacement consuming")
        assert f"sup: {victim.name} (pid {victim.pid}) killed by SIGKILL after" in caplog.text
        assert "starting a replacement" in caplog.text
        # The two workers (one of them new) do the work.
        created = client.run_many("chain", [{"n": n} for n in range(20)])
        ids = [r.run_id for r in created]
        wait_until(lambda: {r["state"] for r in run_records(client.store, ids, "abc").values()} == {"succeeded"},
                   60, "the runs to succeed")
        supervisor.stop()
        assert thread.join(30) == 0
    assert supervisor.children == []
    assert sorted(code for _, code in supervisor.exits) == [-signal.SIGKILL, 0, 0]
    records = run_records(client.store, ids, "abc")
    assert all({t: u.output for t, u in r["units"].items()} == chain_outputs(n) for n, r in enumerate(records.values()))


@pytest.mark.slow
def test_supervisor_scales_up_under_backlog_and_down_when_idle(
        client: Client, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client.apply(nap_pipeline(tmp_path / "nap", 50))
    policy = ScalePolicy(minimum=1, maximum=3, concurrency=2, target_wait_ms=500, up_after_ms=300,
                         down_after_ms=1_500, cooldown_ms=600)
    supervisor = Supervisor(launcher(settings, tmp_path, 2), minimum=1, maximum=3, name="sup",
                            probe=BacklogProbe(client.store, ["work"]), policy=policy, tick_s=0.05, scale_every_s=0.1)
    caplog.set_level(logging.INFO, "ottermq.supervisor")
    counts: list[int] = []

    def watch() -> bool:
        if not counts or counts[-1] != supervisor.desired:
            counts.append(supervisor.desired)
        return True

    with SupervisorThread(supervisor) as thread:
        wait_until(lambda: watch() and len(supervisor.children) == 1, 10, "1 worker")
        created = client.run_many("nap", [{"n": n} for n in range(300)])
        wait_until(lambda: watch() and supervisor.desired == 3, 20, "3 workers")
        wait_until(lambda: watch() and len(supervisor.children) == 3, 10, "3 workers running")
        ids = [r.run_id for r in created]
        wait_until(lambda: watch() and {r["state"] for r in run_records(client.store, ids, "a").values()} == {"succeeded"},
                   60, "the runs to succeed", every=0.1)
        wait_until(lambda: watch() and supervisor.desired == 1 and len(supervisor.children) == 1, 20, "back to 1 worker")
        supervisor.stop()
        assert thread.join(30) == 0
    assert counts == [1, 2, 3, 2, 1]  # up under the backlog, down when idle, no flapping
    assert "scaling from 1 to 2 worker processes: backlog" in caplog.text
    assert "scaling from 3 to 2 worker processes: no backlog" in caplog.text
    assert {code for _, code in supervisor.exits} == {0} and supervisor.restarts == 0


def test_burst_supervisor_exits_when_the_work_is_done(client: Client, settings: Settings, tmp_path: Path) -> None:
    client.apply(chain_pipeline(tmp_path / "chain"))
    created = client.run_many("chain", [{"n": n} for n in range(50)])
    log = tmp_path / "supervisor.log"
    started = time.monotonic()
    supervisor = ottermq_process(settings, ["worker", "-q", "work", "-c", "2", "-p", "2", "--burst"], log, tmp_path)
    try:
        assert supervisor.wait(60) == 0, log.read_text()
    finally:
        kill_tree(supervisor)
    ids = [r.run_id for r in created]
    assert {r["state"] for r in run_records(client.store, ids, "abc").values()} == {"succeeded"}
    text = log.read_text()
    assert text.count("found no work left") == 2 and "all worker processes have exited (0 restarted)" in text
    assert time.monotonic() - started < 30


def test_workers_stop_when_their_supervisor_is_killed(client: Client, settings: Settings, tmp_path: Path) -> None:
    client.apply(chain_pipeline(tmp_path / "chain"))
    log = tmp_path / "supervisor.log"
    supervisor = ottermq_process(settings, ["worker", "-q", "work", "-c", "2", "-p", "2", "--name", "sup"], log, tmp_path)
    try:
        wait_until(lambda: consuming(log) == {"sup-1", "sup-2"}, 30, "2 workers consuming")
        workers = children_of(supervisor.pid)
        assert len(workers) == 2
        supervisor.kill()
        supervisor.wait()
        # The kernel tells each worker (SIGTERM): they stop as they would on a supervisor's stop.
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 15, "the workers to exit")
    finally:
        kill_tree(supervisor)
    assert log.read_text().count("stopping (SIGTERM)") == 2


def test_a_worker_that_keeps_failing_at_start_is_restarted_with_backoff(
        settings: Settings, tmp_path: Path, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    # A real worker process with a configuration it cannot use: it exits 1 at once, every time.
    broken = dataclasses.replace(settings, redis_url="bogus://nowhere")
    log = tmp_path / "children.log"
    out = log.open("ab")
    supervisor = Supervisor(ProcessLauncher(ChildCommand(broken, ("work",), 1, 1.0), stdout=out, stderr=out),
                            minimum=1, name="sup", clock=fake_clock)
    caplog.set_level(logging.INFO, "ottermq.supervisor")
    starts = []
    for expected_delay in (0.5, 1.0, 2.0):
        supervisor.tick()
        [child] = supervisor.children
        starts.append(child.name)
        assert child.process.wait(30) == 1
        fake_clock.advance(100)
        supervisor.tick()  # collected: a quick failure, so the replacement waits
        assert supervisor.children == []
        assert f"{child.name} (pid {child.pid}) exited with code 1 after 0.1s; " \
               f"starting a replacement in {expected_delay:.1f}s" in caplog.text
        fake_clock.advance(int(expected_delay * 1000) - 1)
        supervisor.tick()
        assert supervisor.children == []  # still backing off
        fake_clock.advance(1)
    assert starts == ["sup-1", "sup-2", "sup-3"] and supervisor.restarts == 3
    assert log.read_text().count("unsupported Redis URL scheme `bogus`") == 3
