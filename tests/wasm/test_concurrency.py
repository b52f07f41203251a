"""Handlers run in parallel on executor threads (the GIL is released in guest code); instance reuse."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ottermq.errors import InternalError
from ottermq.wasm import FailureKind, LoadedHandler, SandboxSpec, WasmRuntime

from .conftest import ORDER, ORDER_TOTAL, load, module

BUSY_MS = 300


def test_two_busy_handlers_on_two_threads_take_the_time_of_one(runtime: WasmRuntime) -> None:
    # Each call spins until its 300 ms deadline. Were the GIL held while guest code
    # runs, the second thread could not start its call before the first ended:
    # 600 ms in all. With the GIL released both run at once, even on one free core.
    handler = load(runtime, "core_loop.wat", timeout_ms=BUSY_MS)
    handler.call("{}", timeout_ms=10)  # warm up the instance path
    barrier = threading.Barrier(2)

    def busy() -> float:
        barrier.wait()
        result = handler.call("{}")
        assert result.kind is FailureKind.TIMEOUT
        return result.elapsed_ms

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        elapsed = list(pool.map(lambda _: busy(), range(2)))
    wall_ms = (time.perf_counter() - started) * 1000
    assert all(e >= BUSY_MS - 10 for e in elapsed)
    assert wall_ms < BUSY_MS * 1.5, f"two threads took {wall_ms:.0f} ms; one call takes {BUSY_MS} ms"


def test_many_threads_share_one_handler(runtime: WasmRuntime) -> None:
    fresh = load(runtime, "core_total.wat")
    reused = load(runtime, "core_total.wat", reuse_instance=True)
    command = load(runtime, "command_total.wat")

    def work(i: int) -> list[int]:
        totals = []
        for handler in (fresh, reused, command):
            for j in range(15):
                result = handler.call(json.dumps({"i": i, "j": j}))
                assert result.ok, result.error
                totals.append(json.loads(result.output or "")["total"])
        return totals

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(8)))
    for i, totals in enumerate(results):
        assert totals == [i + j for j in range(15)] * 3


def test_fresh_instance_per_call_by_default(runtime: WasmRuntime) -> None:
    handler = load(runtime, "core_counter.wat")
    assert [json.loads(handler.call("{}").output or "") for _ in range(3)] == [{"calls": 1}] * 3


def test_reuse_keeps_one_instance_per_thread_and_replaces_it_after_a_failure(runtime: WasmRuntime) -> None:
    handler = load(runtime, "core_counter.wat", reuse_instance=True)

    def calls(n: int) -> list[int]:
        return [json.loads(handler.call("{}").output or "")["calls"] for _ in range(n)]

    assert calls(3) == [1, 2, 3]
    with ThreadPoolExecutor(max_workers=1) as other:
        assert other.submit(calls, 2).result() == [1, 2]  # another thread, another instance
    assert calls(1) == [4]
    failed = handler.call('{"fail": true}')
    assert failed.kind is FailureKind.TRAP
    assert calls(2) == [1, 2]  # a new instance after the failure


def test_commands_never_reuse_an_instance(runtime: WasmRuntime) -> None:
    handler = load(runtime, "command_total.wat", reuse_instance=True)
    assert [json.loads(handler.call(f'{{"n": {n}}}').output or "") for n in (1, 2)] == [{"total": 1}, {"total": 2}]


def test_component_reuse(runtime: WasmRuntime) -> None:
    handler = load(runtime, "component_total.wat", reuse_instance=True)
    for n in range(5):
        assert json.loads(handler.call(f'{{"n": {n}}}').output or "") == {"total": n}
    assert handler.call('{"decline": 1}').permanent
    assert json.loads(handler.call(ORDER).output or "") == {"total": ORDER_TOTAL}


def test_reuse_is_faster_than_a_fresh_instance(runtime: WasmRuntime) -> None:
    spec = SandboxSpec()
    fresh = runtime.load(module("core_total.wat"), spec)
    reused = runtime.load(module("core_total.wat"), SandboxSpec(reuse_instance=True))

    def seconds(handler: LoadedHandler, n: int = 300) -> float:
        handler.call(ORDER)
        started = time.perf_counter()
        for _ in range(n):
            handler.call(ORDER)
        return time.perf_counter() - started

    fresh_s, reused_s = min(seconds(fresh) for _ in range(2)), min(seconds(reused) for _ in range(2))
    assert reused_s < fresh_s * 0.7, f"reuse {reused_s * 1e6 / 300:.0f} us/call, fresh {fresh_s * 1e6 / 300:.0f} us/call"


def test_close_frees_reused_instances_and_refuses_calls() -> None:
    rt = WasmRuntime()
    handler = rt.load(module("core_total.wat"), SandboxSpec(reuse_instance=True))
    assert handler.call("{}").ok
    rt.close()
    rt.close()  # idempotent
    with pytest.raises(InternalError, match="closed"):
        handler.call("{}")
