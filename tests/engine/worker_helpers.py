"""Small pipelines on fast WebAssembly-text handlers, workers in threads, and exact checks of stored runs."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime

from ottermq import keys
from ottermq.client import Client
from ottermq.store.catalog import Catalog
from ottermq.store.events import EventReader
from ottermq.store.redis_store import RedisStore
from ottermq.wasm import WasmRuntime
from ottermq.worker.execute import Executor
from ottermq.worker.plans import HandlerCache, PlanCache
from ottermq.worker.runner import Worker, WorkerStats

ROOT = Path(__file__).resolve().parents[2]
ECHO_WAT = (ROOT / "tests" / "wasm" / "modules" / "core_echo.wat").read_text()


def nap_echo_wat(ms: int) -> str:
    """A core module that sleeps ``ms`` in WASI poll_oneoff, then answers its input unchanged."""
    return f"""
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "handle") (param $ptr i32) (param $len i32) (result i32)
    ;; one clock subscription: tag 0 (clock) @8, clock id 1 (monotonic) @16, timeout (ns) @24
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const {ms * 1_000_000}))
    (drop (call $poll (i32.const 0) (i32.const 128) (i32.const 1) (i32.const 256)))
    (i32.store8 (i32.const 400) (i32.const 0))
    (i32.store (i32.const 404) (local.get $ptr))
    (i32.store (i32.const 408) (local.get $len))
    (i32.const 400))
  (func (export "cabi_post_handle") (param i32)
    (global.set $heap (i32.const 1024))))
"""


# a -> b, and c needs both: each output carries a number, so the outputs show the data flowed.
CHAIN = """
name: chain
params:
  n: {{type: integer, required: true}}
queues:
  work: {{type: fifo}}
handlers:
  echo:
    module: echo.wasm
    abi: core
    memory: 2Mi
    timeout: {timeout}
    reuse_instance: true
defaults:
  queue: work
  timeout: {timeout}
  retry: {{max_attempts: {attempts}, backoff: fixed, initial: 10ms, max: 10ms}}
tasks:
  a:
    handler: echo
    input: {{n: "{{{{ params.n }}}}"}}
  b:
    handler: echo
    needs: [a]
    input: {{n: "{{{{ tasks.a.output.n + 1 }}}}"}}
  c:
    handler: echo
    needs: [a, b]
    input: {{n: "{{{{ tasks.b.output.n * 2 }}}}", a: "{{{{ tasks.a.output.n }}}}"}}
"""


def chain_pipeline(directory: Path, *, timeout: str = "1s", attempts: int = 20, nap_ms: int = 0) -> Path:
    return write_pipeline(directory, CHAIN.format(timeout=timeout, attempts=attempts),
                          {"echo.wasm": nap_echo_wat(nap_ms) if nap_ms else ECHO_WAT})


def chain_outputs(n: int) -> dict[str, dict[str, int]]:
    return {"a": {"n": n}, "b": {"n": n + 1}, "c": {"n": (n + 1) * 2, "a": n}}


# One task whose handler sleeps: tasks stay in flight long enough to act on them.
NAP = """
name: nap
params:
  n: {{type: integer, required: true}}
queues:
  work: {{type: fifo}}
handlers:
  nap: {{module: nap.wasm, abi: core, memory: 2Mi, timeout: 1s}}
tasks:
  a:
    handler: nap
    queue: work
    input: {{n: "{{{{ params.n }}}}"}}
    retry: {{max_attempts: 3, backoff: fixed, initial: 10ms, max: 10ms}}
"""

def nap_pipeline(directory: Path, ms: int) -> Path:
    return write_pipeline(directory, NAP.format(), {"nap.wasm": nap_echo_wat(ms)})


def write_pipeline(directory: Path, yaml_text: str, modules: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, wat in modules.items():
        (directory / name).write_bytes(wasmtime.wat2wasm(wat))
    (directory / "pipeline.yaml").write_text(yaml_text)
    return directory


def make_worker(client: Client, runtime: WasmRuntime, queues: list[str], *, store: RedisStore | None = None,
                catalog: Catalog | None = None, concurrency: int = 4, burst: bool = False,
                name: str = "test") -> Worker:
    store = store or client.store
    executor = make_executor(client, runtime, catalog or Catalog(store.client, client.settings))
    return Worker(store, executor, queues, concurrency=concurrency, burst=burst, name=name)


def make_executor(client: Client, runtime: WasmRuntime, catalog: Catalog | None = None) -> Executor:
    catalog = catalog or Catalog(client.store.client, client.settings)
    plans = PlanCache(catalog)
    return Executor(plans, HandlerCache(catalog, runtime, client.settings.module_cache_dir, plans))


class WorkerThread:
    """A worker running on a thread of the test, as `ottermq worker` runs it on its main thread."""

    def __init__(self, worker: Worker, grace_s: float = 10.0) -> None:
        self.worker = worker
        self.stats: WorkerStats | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(grace_s,), name="worker-under-test", daemon=True)

    def _run(self, grace_s: float) -> None:
        try:
            self.stats = self.worker.run(grace_s=grace_s)
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc

    def __enter__(self) -> WorkerThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.abandon()
        self._thread.join(timeout=30)

    def join(self, timeout: float = 30) -> WorkerStats:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the worker did not return"
        if self.error is not None:
            raise self.error
        assert self.stats is not None
        return self.stats

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


@dataclass(frozen=True, slots=True)
class UnitRecord:
    state: str
    attempt: int
    output: Any


def run_records(store: RedisStore, run_ids: Iterable[str], tasks: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each run's state and each of its units' state, attempt and output, read straight from its hash."""
    ids = list(run_ids)
    names = list(tasks)
    pipe = store.client.pipeline(transaction=False)
    for rid in ids:
        pipe.hgetall(keys.run(store.keyspace.run_prefix(rid), rid))
    out: dict[str, dict[str, Any]] = {}
    for rid, data in zip(ids, pipe.execute(), strict=True):
        units = {}
        for name in names:
            uid = keys.unit_id(rid, name)
            out_text = data.get(keys.unit_field(uid, "out"))
            units[name] = UnitRecord(data.get(keys.unit_field(uid, "st"), ""), int(data.get(keys.unit_field(uid, "a"), 0)),
                                     json.loads(out_text) if out_text else None)
        out[rid] = {"state": data.get("state"), "units": units}
    return out


def event_counts(store: RedisStore, *types: str) -> dict[str, Counter[str]]:
    """How many events of each type each unit (or run) had, from the whole event stream."""
    counts: dict[str, Counter[str]] = {t: Counter() for t in types}
    reader = EventReader(store)
    try:
        cursor = None
        while True:
            events, cursor = reader.read(cursor, count=5000)
            if not events:
                return counts
            for event in events:
                if event.type in counts:
                    counts[event.type][event.unit_id or event.run_id or ""] += 1
    finally:
        reader.close()
