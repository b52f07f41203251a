"""The load of the consumed queues, sampled for the autoscaler.

Delayed tasks that are due count as backlog: the probe first promotes them (the same
idempotent step every lease takes), so the ready counts include them and the delayed
counts hold only tasks that are not due yet.
"""

from __future__ import annotations

from collections.abc import Sequence

from ottermq.store.catalog import Catalog
from ottermq.store.inspect import Inspector
from ottermq.store.redis_store import RedisStore
from ottermq.worker.autoscale import LoadSample

__all__ = ["BacklogProbe", "concrete_queues"]


def concrete_queues(catalog: Catalog, names: Sequence[str]) -> list[str]:
    """``names`` with each composite queue (as the applied pipelines define it) replaced by its members."""
    members: dict[str, list[str]] = {}
    for pipeline, version in catalog.pipelines().items():
        plan = catalog.plan_at(pipeline, version)
        for queue in plan.queues:
            if queue.kind == "composite":
                members.setdefault(queue.name, [m.queue for m in queue.members])
    out: list[str] = []
    for name in names:
        for member in members.get(name, [name]):
            if member not in out:
                out.append(member)
    return out


class BacklogProbe:
    """Samples the load of ``queues``; with a catalog, composite queues count as their members
    (resolved at the first sample, so a supervisor can start while Redis is unreachable)."""

    def __init__(self, store: RedisStore, queues: Sequence[str], catalog: Catalog | None = None) -> None:
        self._store = store
        self._names = list(queues)
        self._catalog = catalog
        self._queues: list[str] | None = None if catalog is not None else list(queues)
        self._inspector = Inspector(store)

    def __call__(self) -> LoadSample:
        """Raises StoreUnavailable when Redis cannot be reached."""
        if self._queues is None:
            assert self._catalog is not None
            self._queues = concrete_queues(self._catalog, self._names)
        self._store.promote(queues=self._queues)
        stats = [self._inspector.queue_stats(q) for q in self._queues]
        return LoadSample(
            at_ms=self._store.clock.now_ms(),
            backlog=sum(s.ready for s in stats),
            in_flight=sum(s.in_flight for s in stats),
            finished=sum(s.processed + s.failed for s in stats),
        )
