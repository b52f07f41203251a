"""The store, its read-only inspector and the catalog, opened for one command and closed after it.

The inspection commands use these directly rather than ``ottermq.Client``, which also
loads the compiler and the WASM runtime: that keeps each command well under a second.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ottermq.settings import Settings

if TYPE_CHECKING:
    from ottermq.plan import ExecutionPlan
    from ottermq.store.catalog import Catalog
    from ottermq.store.inspect import Inspector
    from ottermq.store.redis_store import RedisStore


@dataclass(frozen=True, slots=True)
class Handles:
    store: RedisStore
    inspector: Inspector
    catalog: Catalog

    def plan(self, pipeline: str, version: int) -> ExecutionPlan:
        """The plan of one version (raises NotFound when the catalog has no such version)."""
        return self.catalog.plan_at(pipeline, version)


@contextlib.contextmanager
def connected(settings: Settings) -> Iterator[Handles]:
    from ottermq.store.catalog import Catalog
    from ottermq.store.inspect import Inspector
    from ottermq.store.redis_store import RedisStore

    store = RedisStore.from_settings(settings)
    catalog = Catalog(store.client, settings)
    try:
        yield Handles(store, Inspector(store), catalog)
    finally:
        catalog.close()
        store.close()
