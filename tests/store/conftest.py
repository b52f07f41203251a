"""Store fixtures: a RedisStore on the test server, with the fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from store_helpers import State

from ottermq.clock import Clock, FakeClock
from ottermq.settings import Settings
from ottermq.store.connection import client_from_url
from ottermq.store.redis_store import RedisStore

MakeStore = Callable[..., RedisStore]


@pytest.fixture
def make_store(redis_url: str, fake_clock: FakeClock) -> Iterator[MakeStore]:
    stores: list[RedisStore] = []

    def make(shards: int = 1, clock: Clock | None = None, url: str | None = None, **settings: Any) -> RedisStore:
        cfg = Settings(redis_url=url or redis_url, shards=shards, **settings)
        store = RedisStore(client_from_url(cfg.redis_url or redis_url), cfg, clock or fake_clock)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def store(make_store: MakeStore) -> RedisStore:
    return make_store()


@pytest.fixture
def rc(redis_url: str) -> Iterator[redis.Redis]:
    """A decoding client for assertions on exact state."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def state(store: RedisStore, rc: redis.Redis) -> State:
    return State(rc, store.keyspace)
