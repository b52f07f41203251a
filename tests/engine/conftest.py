from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ottermq.client import Client
from ottermq.store.catalog import Catalog
from ottermq.wasm import WasmRuntime
from ottermq.worker.execute import Executor
from ottermq.worker.plans import HandlerCache, PlanCache
from ottermq.worker.runner import Worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WasmRuntime]:
    with WasmRuntime(Path.home() / ".cache" / "ottermq-test-modules") as rt:
        yield rt


def drain(client: Client, runtime: WasmRuntime, queues: list[str], *, concurrency: int = 4) -> Worker:
    """Run a worker in this process until no work is left."""
    catalog = Catalog(client.store.client, client.settings)
    plans = PlanCache(catalog)
    handlers = HandlerCache(catalog, runtime, client.settings.module_cache_dir, plans)
    worker = Worker(client.store, Executor(plans, handlers), queues, concurrency=concurrency, burst=True, name="test")
    worker.run(grace_s=10)
    catalog.close()
    return worker
