"""Fixtures shared by the whole suite.

Redis servers and clusters come from the ``redis_fixtures`` plugin (see its
docstring for every fixture and what it yields); time from ``fake_clock``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ottermq.clock import FakeClock
from ottermq.settings import Settings

if TYPE_CHECKING:
    from ottermq.client import Client

ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ("redis_fixtures",)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that moves only when the test calls ``.advance(ms)`` or ``.set(ms)``."""
    return FakeClock()


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test's private Redis, with a short lease."""
    return Settings(redis_url=redis_url, data_dir=tmp_path / ".ottermq", lease_ms=5_000)


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    from ottermq.client import Client

    with Client(settings=settings) as c:
        yield c


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of pipelines/ whose module paths still resolve (wasm_modules is linked beside it)."""
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    (tmp_path / "wasm_modules").symlink_to(ROOT / "wasm_modules")
    return tmp_path / "pipelines"
