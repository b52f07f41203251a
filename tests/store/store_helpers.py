"""Blueprint builders and state readers shared by the store tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ottermq import keys
from ottermq.store.blueprint import (
    Backoff,
    BackoffKind,
    QueueConfig,
    RunBlueprint,
    TaskBlueprint,
)


def queue(name: str = "q", **kw: Any) -> QueueConfig:
    return QueueConfig(name=name, **kw)


def task(name: str, q: str = "q", needs: Sequence[str] = (), **kw: Any) -> TaskBlueprint:
    kw.setdefault("backoff", Backoff(kind=BackoffKind.FIXED, initial_ms=100, max_ms=100))
    return TaskBlueprint(name=name, queue=q, needs=tuple(needs), **kw)


def blueprint(
    tasks: Sequence[TaskBlueprint], queues: Sequence[QueueConfig] | None = None, pipeline: str = "p", version: int = 1
) -> RunBlueprint:
    if queues is None:
        queues = [queue(n) for n in dict.fromkeys(t.queue for t in tasks)]
    return RunBlueprint(
        pipeline=pipeline, plan_version=version, plan_hash=f"h{version}", tasks=tuple(tasks), queues=tuple(queues)
    )


def single(q: QueueConfig | None = None, **task_kw: Any) -> RunBlueprint:
    q = q or queue()
    return blueprint([task("a", q.name, **task_kw)], [q])


def chain(*names: str, **task_kw: Any) -> RunBlueprint:
    tasks = []
    prev: list[str] = []
    for n in names:
        tasks.append(task(n, needs=prev, **task_kw))
        prev = [n]
    return blueprint(tasks)


class State:
    """Read the exact Redis state of one shard, for assertions."""

    def __init__(self, client: Any, ks: keys.Keyspace, shard: int = 0) -> None:
        self.c = client
        self.p = ks.shard_prefix(shard)

    def ready(self, q: str = "q") -> list[str]:
        return self.c.zrange(keys.queue_ready(self.p, q), 0, -1)

    def ready_scores(self, q: str = "q") -> list[tuple[str, float]]:
        return self.c.zrange(keys.queue_ready(self.p, q), 0, -1, withscores=True)

    def delayed(self, q: str = "q") -> list[tuple[str, float]]:
        return self.c.zrange(keys.queue_delayed(self.p, q), 0, -1, withscores=True)

    def dead(self, q: str = "q") -> list[str]:
        return self.c.zrange(keys.queue_dead(self.p, q), 0, -1)

    def inflight(self) -> list[tuple[str, float]]:
        return self.c.zrange(keys.shard_inflight(self.p), 0, -1, withscores=True)

    def run(self, rid: str) -> dict[str, str]:
        return self.c.hgetall(keys.run(self.p, rid))

    def unit(self, uid: str) -> dict[str, str]:
        """A unit's fields (from its run's hash), without their unit prefix."""
        run_id, rest = uid.split("|", 1)
        prefix = rest + "|"
        fields = self.c.hgetall(keys.run(self.p, run_id))
        return {k[len(prefix) :]: v for k, v in fields.items() if k.startswith(prefix) and "|" not in k[len(prefix) :]}

    def qstate(self, q: str = "q") -> dict[str, str]:
        return self.c.hgetall(keys.queue_state(self.p, q))

    def counter(self, field: str, q: str = "q") -> int:
        return int(self.qstate(q).get(field, 0))

    def ttl(self, key: str) -> int:
        return self.c.pttl(key)
