from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ottermq.client import Client
from ottermq.settings import Settings
from ottermq.store.catalog import Catalog
from ottermq.wasm import WasmRuntime
from ottermq.worker.execute import Executor
from ottermq.worker.plans import HandlerCache, PlanCache
from ottermq.worker.runner import Worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    return Settings(redis_url=redis_url, data_dir=tmp_path / ".ottermq", lease_ms=5_000)


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with Client(settings=settings) as c:
        yield c


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of pipelines/ whose module paths still resolve (wasm_modules is linked beside it)."""
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    (tmp_path / "wasm_modules").symlink_to(ROOT / "wasm_modules")
    return tmp_path / "pipelines"


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
