"""The inspection and control commands end to end: the CLI in subprocesses, on a real Redis, with real runs.

Runs are made in this process (apply, run, and a worker draining the queues with the
real WASM handlers). Every command under test runs as `python -m ottermq ...`; its
further variants (filters, error paths) go through the same entry point in-process.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.conftest import drain
from ottermq.cli.main import main
from ottermq.cli.runs import RUN_STATES
from ottermq.client import Client
from ottermq.settings import Settings
from ottermq.store.types import RunState
from ottermq.wasm import WasmRuntime
from ottermq.worker import runner

ROOT = Path(__file__).resolve().parents[2]
ORDER = {"order_id": "A-1", "customer": "ada@example.com"}
DECLINED = {"order_id": "B-2", "customer": "bob@example.com", "card": "declined", "fail_until": 1}
QUEUES = ["orders", "payments", "payments_nodlq"]


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def nodlq(tmp_path: Path, repo: Path) -> Path:
    """The checkout pipeline again, whose payments queue keeps no dead letters."""
    text = (repo / "checkout.yaml").read_text()
    text = text.replace("name: checkout\n", "name: checkout_nodlq\n").replace("  payments:\n", "  payments_nodlq:\n")
    text = text.replace("dead_letter: {enabled: true, retention: 30d}", "dead_letter: false")
    text = text.replace("queue: payments\n", "queue: payments_nodlq\n")
    (tmp_path / "nodlq").mkdir()
    (tmp_path / "nodlq" / "checkout_nodlq.yaml").write_text(text)
    return tmp_path / "nodlq"


@pytest.fixture(autouse=True)
def _prompt_burst_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    # A burst worker notices that its last task is done on its next idle wake-up (1 s by
    # default); the in-process drains here look more often, so each ends right after its work.
    monkeypatch.setattr(runner, "IDLE_WAIT_S", 0.05)


@pytest.fixture(scope="session")
def runtime() -> Iterator[WasmRuntime]:
    with WasmRuntime(Path.home() / ".cache" / "ottermq-test-modules") as rt:
        yield rt


class Cli:
    """`python -m ottermq` against the test's Redis and data directory.

    Every command runs as a subprocess at least once; ``here`` runs the same entry point
    in this process, for the further variants of a command (an interpreter start-up
    costs more than most commands, and the suite has to stay fast).
    """

    def __init__(self, settings: Settings, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.cwd = cwd
        self.flags = ["--redis-url", str(settings.redis_url), "--data-dir", str(settings.data_dir)]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OTTERMQ_")}
        self.env.update(OTTERMQ_REDIS_URL=str(settings.redis_url), OTTERMQ_DATA_DIR=str(settings.data_dir))
        self._capsys = capsys

    def here(self, *args: str) -> subprocess.CompletedProcess[str]:
        self._capsys.readouterr()
        code = main([*self.flags, *args])
        out, err = self._capsys.readouterr()
        return subprocess.CompletedProcess(["ottermq", *args], code, out, err)

    def here_json(self, *args: str) -> Any:
        proc = self.here(*args, "-o", "json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ottermq", *args]

    def __call__(self, *args: str, stdin: Any = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args), cwd=self.cwd, env=self.env, stdin=stdin, capture_output=True, text=True,
                              timeout=60)

    def json(self, *args: str) -> Any:
        proc = self(*args, "-o", "json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def popen(self, *args: str, stdin: Any = subprocess.DEVNULL) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*args), cwd=self.cwd, env=self.env, stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


@pytest.fixture
def cli(settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(settings, tmp_path, capsys)


def finished(client: Client, runtime: WasmRuntime, *params: dict[str, Any], pipeline: str = "checkout") -> list[str]:
    """Start runs and drain every queue: their ids, once they have ended."""
    ids = [client.run(pipeline, p).run_id for p in params]
    drain(client, runtime, QUEUES)
    return ids


def tasks_of(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in detail["tasks"]}


# --- runs -------------------------------------------------------------------------------


def test_run_states_spelled_out_in_the_cli_match_the_store() -> None:
    assert set(RUN_STATES) == {s.value for s in RunState}


def test_runs_list_filters_and_show(cli: Cli, client: Client, repo: Path, runtime: WasmRuntime) -> None:
    client.apply(repo)
    ok, declined = finished(client, runtime, {**ORDER, "fail_until": 2}, DECLINED)
    pending = client.run("checkout", {**ORDER, "order_id": "C-3"}).run_id

    table, shown = cli("runs"), cli("runs", "show", declined)
    nothing, missing = cli.here("runs", "--pipeline", "other"), cli.here("runs", "show", "no-such-run")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["RUN", "PIPELINE", "VERSION", "STATE"]
    assert [(ln.split()[0], ln.split()[3]) for ln in lines[1:]] == [(pending, "pending"), (declined, "failed"), (ok, "succeeded")]
    assert (nothing.returncode, nothing.stdout, nothing.stderr) == (0, "", "no runs found\n")
    assert missing.returncode == 1 and "run 'no-such-run' does not exist" in missing.stderr

    assert shown.returncode == 0, shown.stderr
    assert "  state     failed (failed at task charge)\n" in shown.stdout
    rows = {ln.split()[0]: ln for ln in shown.stdout.split("\n\n", 1)[1].splitlines()}
    assert rows["TASK"].split() == ["TASK", "STATE", "ATTEMPTS", "DONE", "NEEDS", "OUTPUT", "/", "ERROR"]
    assert rows["charge"].split()[1:3] == ["failed", "1"] and rows["charge"].endswith("price_line  exit: card declined")
    assert rows["receipt"].split() == ["receipt", "skipped", "-", "-", "charge", "-"]
    assert rows["price_line"].split()[1] == "succeeded" and rows["price_line"].endswith("3 items: 3 succeeded")
    assert rows["[2]"].split()[1:3] == ["succeeded", "1"]

    failed, newest = cli.here_json("runs", "--state", "failed"), cli.here_json("runs", "--limit", "1")
    pending_only = cli.here_json("runs", "--state", "pending", "--pipeline", "checkout")
    # -o before the action is kept (the action's own flag defaults to the group's).
    detail = json.loads(cli("runs", "-o", "json", "show", ok).stdout)
    assert [r["run_id"] for r in failed] == [declined]
    assert [r["run_id"] for r in newest] == [r["run_id"] for r in pending_only] == [pending]
    assert detail["state"] == "succeeded" and detail["params"]["order_id"] == "A-1"
    tasks = tasks_of(detail)
    assert tasks["charge"]["needs"] == ["price_line"]
    [charge] = tasks["charge"]["units"]
    assert charge["attempt"] == 2 and charge["output"]["amount_cents"] == 6108
    assert [h["attempt"] for h in charge["history"]] == [1] and charge["history"][0]["kind"] == "exit"
    assert detail["created_ms"] <= charge["finished_ms"] <= detail["finished_ms"]
    assert [u["item"] for u in tasks["price_line"]["units"]] == [None, 0, 1, 2]


def test_runs_cancel(cli: Cli, client: Client, repo: Path) -> None:
    client.apply(repo)
    waiting = client.run("checkout", {**ORDER, "order_id": "C-3"}).run_id

    proc = cli("runs", "cancel", waiting)
    assert (proc.returncode, proc.stdout) == (0, f"run {waiting} cancelled\n")
    assert client.inspect.queue_stats("orders").ready == 0  # the root task left its queue
    shown, again = cli.here("runs", "show", waiting, "-o", "json"), cli.here("runs", "cancel", waiting, "-o", "json")
    retry, missing = cli.here("runs", "retry", waiting), cli.here("runs", "cancel", "no-such-run")
    assert json.loads(shown.stdout)["state"] == "cancelled"
    assert json.loads(again.stdout) == {"run_id": waiting, "state": "cancelled", "cancelled": True}
    assert retry.returncode == 1 and "was cancelled: a cancelled run cannot be retried" in retry.stderr
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_runs_retry_requeues_failed_tasks_and_unskips_their_dependants(
    cli: Cli, client: Client, repo: Path, runtime: WasmRuntime
) -> None:
    client.apply(repo)
    ok, declined = finished(client, runtime, ORDER, DECLINED)

    proc = cli("runs", "retry", declined)
    nothing, late = cli.here("runs", "retry", ok), cli.here("runs", "cancel", ok)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (f"run {declined}: requeued charge (attempts start again); receipt no longer skipped; "
                           "the run is running\n")
    assert nothing.returncode == 1 and "(succeeded) has no failed tasks: nothing to retry" in nothing.stderr
    assert late.returncode == 1 and "had already finished (succeeded): nothing to cancel" in late.stderr
    detail = cli.here_json("runs", "show", declined)
    tasks = tasks_of(detail)
    assert (detail["state"], detail["failed_task"]) == ("running", None)
    assert (tasks["charge"]["state"], tasks["charge"]["units"][0]["state"], tasks["receipt"]["state"]) == (
        "active", "ready", "waiting")
    assert client.inspect.dead_letters("payments") == []

    drain(client, runtime, QUEUES)  # the card is still declined: it fails again, and is dead-lettered again
    again = cli.here_json("runs", "show", declined)
    [charge] = tasks_of(again)["charge"]["units"]
    assert (again["state"], charge["state"], len(charge["history"])) == ("failed", "dead", 2)
    assert [d.unit_id for d in client.inspect.dead_letters("payments")] == [f"{declined}|charge"]


def test_runs_retry_says_which_failures_have_no_dead_letter_to_requeue(
    cli: Cli, client: Client, repo: Path, nodlq: Path, runtime: WasmRuntime
) -> None:
    client.apply(repo, nodlq)
    [run_id] = finished(client, runtime, DECLINED, pipeline="checkout_nodlq")
    proc = cli("runs", "retry", run_id)
    assert proc.returncode == 1 and proc.stdout == ""
    assert f"cannot retry charge ({run_id}|charge): queue `payments_nodlq` keeps no dead letters (dead_letter: false)" \
        in proc.stderr
    assert f"nothing was retried; run {run_id} is still failed" in proc.stderr
    assert client.get(run_id).summary.state == "failed"


# --- dlq --------------------------------------------------------------------------------


def test_dlq_list_show_and_requeue_with_a_new_input(cli: Cli, client: Client, repo: Path, runtime: WasmRuntime) -> None:
    client.apply(repo)
    first, second = finished(client, runtime, DECLINED, {**DECLINED, "order_id": "B-3"})
    unit = f"{first}|charge"

    listed, shown, shown_json = cli("dlq", "list"), cli("dlq", "show", unit), cli.here("dlq", "show", unit, "-o", "json")
    oldest = cli.here("dlq", "list", "--queue", "payments", "--limit", "1", "-o", "json")
    typo, bad = cli.here("dlq", "list", "--queue", "paymnets"), cli.here("dlq", "requeue", unit, "--input", "{not json")
    table = listed.stdout.splitlines()
    assert table[0].split()[:3] == ["UNIT", "QUEUE", "DIED"]
    assert sorted(ln.split()[0] for ln in table[1:]) == sorted([unit, f"{second}|charge"])
    assert all(ln.endswith("1         exit: card declined") for ln in table[1:])
    [entry] = json.loads(oldest.stdout)
    assert entry["unit_id"] == table[1].split()[0]
    assert (entry["task"], entry["attempts"], entry["error_kind"]) == ("charge", 1, "exit")
    assert shown.returncode == 0, shown.stderr
    assert "error     exit: card declined\n" in shown.stdout and "  attempt 1  " in shown.stdout
    assert "input\n  (not stored: each attempt renders it" in shown.stdout
    assert json.loads(shown_json.stdout)["history"][0]["error"] == "card declined"
    assert (typo.returncode, typo.stderr) == (1, "error: there is no queue `paymnets`, did you mean `payments`?\n")
    assert bad.returncode == 1 and "--input is not valid JSON" in bad.stderr

    new_input = {"order_id": "B-2", "amount_cents": 500, "card": "ok", "fail_until": 1, "attempt": 1}
    proc = cli("dlq", "requeue", unit, "--input", json.dumps(new_input))
    assert (proc.returncode, proc.stdout) == (0, f"requeued {unit}\n"), proc.stderr
    drain(client, runtime, QUEUES)
    detail = cli.here_json("runs", "show", first)
    assert detail["state"] == "succeeded"
    assert tasks_of(detail)["charge"]["units"][0]["output"]["amount_cents"] == 500

    gone, show_gone = cli.here("dlq", "requeue", unit, f"{second}|charge"), cli.here("dlq", "show", unit)
    assert gone.returncode == 1 and gone.stdout == f"requeued {second}|charge\n"
    assert gone.stderr == f"cannot requeue {unit}: not in a dead-letter queue\n"
    assert show_gone.returncode == 1 and "is not in a dead-letter queue" in show_gone.stderr


def test_dlq_usage_errors(cli: Cli) -> None:
    commands = (("requeue",), ("requeue", "a|b", "--queue", "q", "--all"), ("purge", "--queue", "q"),
                ("purge", "--all"), ("show", "not-a-unit-id"), ("list", "--limit", "x"))
    assert cli("dlq", *commands[0]).returncode == 2
    for command in commands:
        proc = cli.here("dlq", *command)
        assert proc.returncode == 2, (command, proc.stderr)


def test_dlq_requeue_all_and_purge(cli: Cli, client: Client, repo: Path, runtime: WasmRuntime) -> None:
    client.apply(repo)
    ids = finished(client, runtime, *({**DECLINED, "order_id": f"B-{i}"} for i in range(3)))

    assert cli.json("dlq", "requeue", "--queue", "payments", "--all") == {"queue": "payments", "requeued": 3, "left": 0}
    assert {s.run_id for s in client.runs(state="running")} == set(ids)
    drain(client, runtime, QUEUES)
    assert len(client.inspect.dead_letters("payments")) == 3

    # A whole queue: no terminal to ask on and no --yes, so nothing happens; "n" on a terminal neither.
    refused = cli("dlq", "purge", "--queue", "payments", "--all")
    assert refused.returncode == 1
    assert "refusing to purge a whole queue without confirmation" in refused.stderr and "--yes" in refused.stderr
    no = answer_on_a_terminal(cli, "n\n", "dlq", "purge", "--queue", "payments", "--all")
    assert no.returncode == 1 and "nothing was purged" in no.stderr
    assert len(client.inspect.dead_letters("payments")) == 3

    one = cli.here("dlq", "purge", f"{ids[0]}|charge", f"{ids[0]}|receipt")
    assert one.returncode == 1 and one.stdout == "purged 1 dead-lettered task\n"
    assert "1 of the ids were not in a dead-letter queue" in one.stderr
    yes = answer_on_a_terminal(cli, "y\n", "dlq", "purge", "--queue", "payments", "--all")
    assert yes.returncode == 0 and yes.stdout == "purged 2 dead-lettered tasks of payments\n"
    assert "purge all 2 dead-lettered tasks of queue payments for good? [y/N]" in yes.stderr
    assert client.inspect.dead_letters("payments") == []
    empty = cli.here("dlq", "purge", "--queue", "payments", "--all", "--yes")
    assert empty.returncode == 0 and "nothing to purge" in empty.stderr


def answer_on_a_terminal(cli: Cli, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command with a pseudo-terminal as stdin, typing ``answer``."""
    controller, terminal = os.openpty()
    try:
        proc = cli.popen(*args, stdin=terminal)
        os.close(terminal)
        os.write(controller, answer.encode())
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(controller)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# --- queues -----------------------------------------------------------------------------


def test_queues_show_counters_and_measure_rates_only_when_watching(
    cli: Cli, client: Client, repo: Path, runtime: WasmRuntime
) -> None:
    client.apply(repo)
    finished(client, runtime, {**ORDER, "fail_until": 2}, DECLINED)
    watch = cli.popen("queues", "--watch", "--interval", "1", "--count", "2", "-o", "json")
    counters, text, usage = cli.here("queues", "-o", "json"), cli("queues"), cli.here("queues", "--count", "2")
    watched_text = cli.here("queues", "--watch", "--interval", "0.1", "--count", "1")

    stats = {q["name"]: q for q in json.loads(counters.stdout)}
    assert set(stats) == {"orders", "payments"}
    # Two runs: validate + expansion + 3 items each; one receipt.
    assert (stats["orders"]["processed"], stats["orders"]["failed"], stats["orders"]["in_dlq"]) == (11, 0, 0)
    payments = stats["payments"]
    assert (payments["processed"], payments["failed"], payments["retried"], payments["dead_lettered"], payments["in_dlq"]) == (
        1, 2, 1, 1, 1)
    assert "per_second" not in payments
    assert text.stdout.splitlines()[0].split()[:3] == ["QUEUE", "READY", "DELAYED"] and "/S" not in text.stdout
    assert usage.returncode == 2
    assert watched_text.returncode == 0 and "PROCESSED/S" in watched_text.stdout and "rates over the last" in watched_text.stdout

    assert watch.stdout is not None
    first = json.loads(watch.stdout.readline())
    finished(client, runtime, ORDER)  # between the two readings
    second = json.loads(watch.stdout.readline())
    assert watch.wait(timeout=30) == 0
    before = {q["name"]: q for q in first["queues"]}
    after = {q["name"]: q for q in second["queues"]}
    delta = after["orders"]["processed"] - before["orders"]["processed"]
    assert delta == 6 and 0.9 <= second["interval_s"] <= 2.0
    assert after["orders"]["per_second"]["processed"] == pytest.approx(delta / second["interval_s"], rel=0.01)
    assert after["payments"]["per_second"]["dead_lettered"] == 0


# --- pipelines and rollback -------------------------------------------------------------


def test_pipelines_history_and_rollback(cli: Cli, client: Client, repo: Path, runtime: WasmRuntime) -> None:
    assert cli.here("pipelines").stderr.startswith("no pipelines applied yet")
    client.apply(repo)
    path = repo / "checkout.yaml"
    path.write_text(path.read_text().replace("      max_attempts: 4\n", "      max_attempts: 5\n"))
    client.apply(repo)
    listed, [row] = cli("pipelines"), cli.here_json("pipelines")
    assert (row["name"], row["version"], row["tasks"], row["source"]) == ("checkout", 2, 4, str(repo / "checkout.yaml"))
    assert listed.stdout.splitlines()[1].split() == ["checkout", "v2", *row_when(row), "4", str(repo / "checkout.yaml")]

    proc = cli("rollback", "checkout", "--to", "v1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "pipeline checkout rolled back to the plan of v1: now v3 (was v2)\n  ~ task charge (retry)\n"
    same, text = cli.here("rollback", "checkout", "--to", "1"), cli("pipelines", "history", "checkout")
    missing, typo = cli.here("rollback", "checkout", "--to", "7"), cli.here("rollback", "checkuot", "--to", "1")
    usage, unknown = cli.here("rollback", "checkout", "--to", "latest"), cli.here("pipelines", "history", "nope")
    history = cli.here_json("pipelines", "history", "checkout")
    assert history["latest"] == 3
    v1, v2, v3 = history["history"]
    assert [h["cause"] for h in (v1, v2, v3)] == ["apply", "apply", "rollback to v1"]
    assert v3["hash"] == v1["hash"] != v2["hash"] and v3["source"] == v1["source"]
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["VERSION", "HASH", "APPLIED", "(UTC)", "CAUSE", "SOURCE", "NOTES"]
    assert lines[3].split()[:3] == ["v3", "*", v1["hash"].removeprefix("sha256:")[:12]] and "rollback to v1" in lines[3]
    assert same.stdout == "pipeline checkout v3 already has the plan of v1: nothing changed\n"
    assert missing.stderr == "error: pipeline `checkout` has no version 7\n"
    assert typo.returncode == 1 and "did you mean `checkout`" in typo.stderr
    assert usage.returncode == 2 and unknown.returncode == 1

    # The rolled-back version is installed: a new run pins v3 and runs to the end.
    [run_id] = finished(client, runtime, ORDER)
    detail = client.get(run_id)
    assert (detail.summary.plan_version, detail.summary.state) == (3, "succeeded")


def row_when(row: dict[str, Any]) -> list[str]:
    from ottermq.cli.tables import when

    return when(row["applied_at_ms"]).split()


# --- events -----------------------------------------------------------------------------


def test_events_filters_and_resume(cli: Cli, client: Client, repo: Path, nodlq: Path, runtime: WasmRuntime) -> None:
    client.apply(repo, nodlq)
    declined = client.run("checkout", DECLINED).run_id
    [other] = finished(client, runtime, ORDER, pipeline="checkout_nodlq")

    everything, by_pipeline = cli("events", "-o", "json"), cli("events", "--pipeline", "checkout_nodlq", "-o", "json")
    by_run = cli.here("events", "--run", declined, "-t", "run.*,task.dead", "-o", "json")
    dead = cli.here("events", "--type", "task.dead")
    garbage, wrong_shards = cli.here("events", "--since", "garbage"), cli.here("events", "--since", "1-0,2-0")
    assert everything.returncode == 0, everything.stderr
    events = [json.loads(line) for line in everything.stdout.splitlines()]
    assert {e["run_id"] for e in events if e["run_id"]} == {declined, other}
    assert {e["pipeline"] for e in events if e["run_id"] == other} == {"checkout_nodlq"}
    lines = [json.loads(ln) for ln in by_pipeline.stdout.splitlines()]
    assert lines == [e for e in events if e["pipeline"] == "checkout_nodlq"] and lines
    assert [json.loads(ln)["type"] for ln in by_run.stdout.splitlines()] == ["run.created", "run.started", "task.dead", "run.failed"]
    [line] = dead.stdout.splitlines()
    assert line.split()[2:] == ["task.dead", declined, "charge", "queue=payments", "kind=exit"]
    assert garbage.returncode == wrong_shards.returncode == 2

    cursor = everything.stderr.split("--since ")[1].rstrip(")\n")
    assert cli.here("events", "--since", cursor).stdout == ""
    [later] = finished(client, runtime, ORDER)
    resumed = [json.loads(ln) for ln in cli.here("events", "--since", cursor, "-o", "json").stdout.splitlines()]
    assert resumed and {e["run_id"] for e in resumed if e["run_id"]} == {later}


def test_events_follow_streams_until_interrupted(cli: Cli, client: Client, repo: Path, runtime: WasmRuntime) -> None:
    client.apply(repo)
    start = cli.here("events").stderr.split("--since ")[1].rstrip(")\n")
    follow = cli.popen("events", "--follow", "--since", start, "--type", "run.*", "-o", "json")
    lines = _lines(follow)
    try:
        [run_id] = finished(client, runtime, ORDER)
        seen = [json.loads(lines.get(timeout=20)) for _ in range(3)]
        assert [(e["type"], e["run_id"]) for e in seen] == [
            ("run.created", run_id), ("run.started", run_id), ("run.succeeded", run_id)]
    finally:
        follow.send_signal(signal.SIGINT)
        follow.wait(timeout=20)
    assert follow.stderr is not None
    err = follow.stderr.read()
    assert follow.returncode == 130
    assert "cursor: " in err and "interrupted" in err


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stdout lines, read on a thread so the test can wait with a timeout."""
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return out
