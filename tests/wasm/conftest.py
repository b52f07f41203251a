"""Fixtures for the WASM runtime tests: a runtime with a private module cache, and the fixture modules.

The modules in ``modules/`` are WebAssembly text: real handlers of each shape
(``core_total``, ``command_total``, ``component_total``) and hostile ones, each
with a comment saying what it does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ottermq.wasm import LoadedHandler, SandboxSpec, WasmRuntime

MODULES = Path(__file__).parent / "modules"
# What the runtime fixtures see as the host environment.
HOST_ENV = {"SECRET_TOKEN": "abc123", "UNGRANTED": "must-not-leak"}
# A ~200-byte order whose integers sum to 1193.
ORDER = (
    '{"order_id":"A-1001","customer":{"id":42,"name":"Ada"},'
    '"lines":[{"sku":"TEA-1","qty":2,"unit_price":350},{"sku":"CUP-9","qty":1,"unit_price":799}],'
    '"shipping":{"method":"post","price":0},"note":"leave at the door"}'
)
ORDER_TOTAL = 1001 + 42 + 1 + 2 + 350 + 9 + 1 + 799 + 0


def module(name: str) -> Path:
    path = MODULES / name
    assert path.is_file(), path
    return path


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WasmRuntime]:
    rt = WasmRuntime(tmp_path_factory.mktemp("module-cache"), env=HOST_ENV)
    yield rt
    rt.close()


@pytest.fixture(scope="module", params=[True, False], ids=["fast-calls", "public-api"])
def any_runtime(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WasmRuntime]:
    """A runtime on the ctypes fast call path, then one on wasmtime-py's public API."""
    rt = WasmRuntime(tmp_path_factory.mktemp("module-cache"), env=HOST_ENV, fast_calls=request.param)
    yield rt
    rt.close()


def load(rt: WasmRuntime, name: str, **spec: object) -> LoadedHandler:
    return rt.load(module(name), SandboxSpec(**spec))  # type: ignore[arg-type]
