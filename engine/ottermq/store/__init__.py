"""The execution core on Redis: the only package that imports ``redis``.

``RedisStore`` implements the hot path (``Store`` protocol); ``inspect`` holds the
read-only queries; ``events`` reads the per-shard event streams.
"""

from __future__ import annotations

from ottermq.store.blueprint import QueueConfig, RunBlueprint, TaskBlueprint
from ottermq.store.protocol import Store
from ottermq.store.redis_store import RedisStore

__all__ = ["QueueConfig", "RedisStore", "RunBlueprint", "Store", "TaskBlueprint"]
