from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ottermq.compiler import parse_rate
from ottermq.errors import SpecError
from ottermq.plan import ExecutionPlan, RatePlan
from ottermq.spec.repository import compile_paths

EMPTY_MODULE = b"\0asm\x01\0\0\0"

PIPELINE = """\
name: shop
params:
  order_id: {type: string}
  region: {type: string, enum: [eu, us], default: eu}
queues:
  orders: {type: priority, levels: 4, rate_limit: 20/10s}
  all: {type: composite, strategy: weighted, members: [{queue: orders, weight: 2}, default]}
handlers:
  h: {module: h.wasm, timeout: 7s, memory: 1Mi, env: [A], dirs: [{host: ., guest: /data}]}
defaults:
  retry: {max_attempts: 5, initial: 2s}
tasks:
  charge:
    handler: h
    needs: [validate, price]
    input: {total: "{{ tasks.price.output }}"}
    retry: {backoff: fixed}
  validate:
    handler: h
    queue: orders
    priority: 3
    input: {id: "{{ params.order_id }}"}
  price:
    handler: h
    needs: [validate]
    for_each: "{{ params.order_id | list }}"
    input: "{{ item }}"
    timeout: 1m
    batch: {size: 10}
schedules:
  tick: {interval: 5m, params: {order_id: "X-{{ schedule.date }}"}}
"""


def write_repo(root: Path, text: str = PIPELINE, module: bytes = EMPTY_MODULE) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shop.yaml").write_text(text)
    (root / "h.wasm").write_bytes(module)
    return root


def compile_one(root: Path) -> ExecutionPlan:
    (compiled,) = compile_paths([root])
    return compiled.plan


def test_defaults_are_filled_and_units_converted(tmp_path: Path) -> None:
    plan = compile_one(write_repo(tmp_path))
    validate, price, charge = plan.tasks
    assert [t.name for t in plan.tasks] == ["validate", "price", "charge"]  # topological order
    assert validate.queue == "orders" and validate.priority == 3 and validate.timeout_ms == 7_000
    assert price.timeout_ms == 60_000 and price.batch is not None and price.batch.max_wait_ms == 1_000
    assert charge.retry.max_attempts == 5 and charge.retry.initial_ms == 2_000 and charge.retry.backoff == "fixed"
    assert validate.retry.backoff == "exponential"
    assert validate.dependents == ("price", "charge") and charge.needs == ("validate", "price")
    assert charge.uses == ("price",)
    handler = plan.handler("h")
    assert handler.memory_bytes == 1024 * 1024 and handler.env == ("A",) and handler.dirs[0].read_only
    assert handler.digest.startswith("sha256:")
    assert [q.name for q in plan.queues] == ["all", "default", "orders"]
    assert plan.queue("orders").rate_limit == RatePlan(count=20, per_ms=10_000)
    assert plan.queue("all").members[0].weight == 2
    assert plan.params_schema["required"] == ["order_id"]
    assert plan.schedules[0].interval_ms == 300_000 and plan.schedules[0].catch_up == "latest"


def test_json_round_trip_is_lossless(tmp_path: Path) -> None:
    plan = compile_one(write_repo(tmp_path))
    again = ExecutionPlan.from_json(plan.to_json())
    assert again == plan and again.hash == plan.hash
    assert json.loads(plan.to_json())["format"] == 1


def test_hash_ignores_location_but_not_content(tmp_path: Path) -> None:
    a = compile_one(write_repo(tmp_path / "one"))
    b = compile_one(write_repo(tmp_path / "elsewhere" / "two"))
    assert a.hash == b.hash
    c = compile_one(write_repo(tmp_path / "three", module=EMPTY_MODULE + b"\0"))
    assert c.hash != a.hash
    d = compile_one(write_repo(tmp_path / "four", text=PIPELINE.replace("timeout: 7s", "timeout: 8s")))
    assert d.hash != a.hash


def test_hash_is_stable_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    root = write_repo(tmp_path)
    code = "import sys; from ottermq.spec.repository import compile_paths; print(compile_paths([sys.argv[1]])[0].plan.hash)"
    hashes = set()
    for seed in ("0", "1", "12345", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code, str(root)], env=env, capture_output=True, text=True, check=True)
        hashes.add(out.stdout.strip())
    hashes.add(compile_one(root).hash)
    assert len(hashes) == 1


def test_the_same_plan_from_a_copy_of_the_repository(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "a")
    shutil.copytree(root, tmp_path / "b")
    assert compile_one(tmp_path / "a").to_json() == compile_one(tmp_path / "b").to_json()


def test_invalid_repository_raises_spec_error_with_every_diagnostic(tmp_path: Path) -> None:
    write_repo(tmp_path, PIPELINE.replace("handler: h\n    needs: [validate]", "handler: hh\n    needs: [valdate]"))
    with pytest.raises(SpecError) as info:
        compile_paths([tmp_path])
    messages = [d.message for d in info.value.diagnostics]
    assert "unknown handler `hh`, did you mean `h`?" in messages
    assert "unknown task `valdate`, did you mean `validate`?" in messages


@pytest.mark.parametrize(("text", "count", "per"), [("100/s", 100, 1000), ("20/10s", 20, 10000), ("5 / 1m", 5, 60000)])
def test_parse_rate(text: str, count: int, per: int) -> None:
    assert parse_rate(text) == RatePlan(count, per)
