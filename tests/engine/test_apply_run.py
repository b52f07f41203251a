"""apply, run and a worker end to end through the Python API, on a real Redis and real handlers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ottermq.client import Client
from ottermq.errors import NotFound, ParamsError, SpecError
from ottermq.wasm import WasmRuntime

from .conftest import drain

ORDER = {"order_id": "A-1", "customer": "ada@example.com"}


def test_apply_creates_then_is_a_no_op(client: Client, repo: Path) -> None:
    [line] = client.apply(repo)
    assert (line.pipeline, line.status, line.new_version) == ("checkout", "created", 1)
    [again] = client.apply(repo)
    assert (again.status, again.old_version) == ("unchanged", 1)
    assert client.catalog.pipelines() == {"checkout": 1}


def test_apply_a_change_bumps_the_version_and_says_what_changed(client: Client, repo: Path) -> None:
    client.apply(repo)
    path = repo / "checkout.yaml"
    path.write_text(path.read_text().replace("      max_attempts: 4\n", "      max_attempts: 5\n"))
    [dry] = client.apply(repo, dry_run=True)
    assert dry.status == "would configure" and dry.changes == ("~ task charge (retry)",)
    assert client.catalog.pipelines() == {"checkout": 1}  # the dry run wrote nothing
    [line] = client.apply(repo)
    assert (line.status, line.old_version, line.new_version) == ("configured", 1, 2)
    assert str(line).startswith("pipeline checkout configured (v1 -> v2)")
    assert [h.version for h in client.catalog.history("checkout")] == [1, 2]


def test_invalid_files_apply_nothing(client: Client, repo: Path) -> None:
    (repo / "broken.yaml").write_text("name: broken\ntasks: {a: {handler: nope}}\n")
    with pytest.raises(SpecError):
        client.apply(repo)
    assert client.catalog.pipelines() == {}


def test_prune_removes_pipelines_no_longer_in_the_paths(client: Client, repo: Path, tmp_path: Path) -> None:
    client.apply(repo)
    other = tmp_path / "other"
    other.mkdir()
    (other / "p.yaml").write_text((repo / "checkout.yaml").read_text().replace("name: checkout", "name: other"))
    lines = client.apply(other, prune=True)
    assert [(ln.pipeline, ln.status) for ln in lines] == [("other", "created"), ("checkout", "pruned")]
    assert client.catalog.pipelines() == {"other": 1}


def test_run_with_retry_fan_out_and_fan_in(client: Client, repo: Path, runtime: WasmRuntime) -> None:
    client.apply(repo)
    created = client.run("checkout", {**ORDER, "fail_until": 2})
    worker = drain(client, runtime, ["orders", "payments"])
    detail = client.wait(created.run_id, timeout=30)
    assert detail.summary.state == "succeeded"
    tasks = {t.name: t for t in detail.tasks}
    assert [u.item for u in tasks["price_line"].units if u.item is not None] == [0, 1, 2]
    charge = tasks["charge"].units[0]
    assert charge.attempt == 2 and '"amount_cents":6108' in (charge.output or "")
    assert worker.stats.retried == 1 and worker.stats.dead == 0


def test_permanent_failure_dead_letters_and_skips_downstream(client: Client, repo: Path, runtime: WasmRuntime) -> None:
    client.apply(repo)
    created = client.run("checkout", {**ORDER, "card": "declined", "fail_until": 1})
    drain(client, runtime, ["orders", "payments"])
    detail = client.get(created.run_id)
    assert detail.summary.state == "failed" and detail.failed_task == "charge"
    assert {t.name: t.state for t in detail.tasks}["receipt"] == "skipped"
    [dead] = client.inspect.dead_letters("payments")
    assert (dead.error, dead.attempts) == ("card declined", 1)


def test_run_ids_are_idempotent_and_params_are_checked(client: Client, repo: Path) -> None:
    client.apply(repo)
    first = client.run("checkout", ORDER, run_id="order-A-1")
    again = client.run("checkout", ORDER, run_id="order-A-1")
    assert first.created and not again.created and again.run_id == "order-A-1"
    with pytest.raises(ParamsError, match="param `region`: `asia` is not one of eu, us, uk"):
        client.run("checkout", {**ORDER, "region": "asia"})
    with pytest.raises(NotFound, match="did you mean `checkout`"):
        client.run("checkuot", ORDER)


def test_events_subscribe_calls_back_for_each_matching_event(client: Client, repo: Path, runtime: WasmRuntime) -> None:
    import threading

    import ottermq

    assert ottermq.Client is Client
    client.apply(repo)
    seen: list[str] = []
    done = threading.Event()

    def on_success(event: object) -> None:
        seen.append(getattr(event, "unit_id", "") or "")
        if seen[-1].endswith("|receipt"):  # the last task of the DAG
            done.set()

    unsubscribe = client.events.subscribe("task.succeeded", on_success)
    created = client.run("checkout", ORDER)
    drain(client, runtime, ["orders", "payments"])
    assert client.wait(created.run_id, timeout=30).summary.state == "succeeded"
    assert done.wait(timeout=10)
    unsubscribe()
    tasks = {u.split("|")[1] for u in seen if u}
    assert {"validate", "price_line", "charge", "receipt"} <= tasks
