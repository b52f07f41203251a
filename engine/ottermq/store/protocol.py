"""The storage facade the worker, client, scheduler and CLI talk to (hot path only).

Batch methods take many items and return one typed result per item, in order; they
never raise for an item's outcome (a lost lease is a status). Every method raises
StoreUnavailable when Redis cannot be reached; callers retry with backoff.
Read-only inspection lives in ``ottermq.store.inspect``; events in ``ottermq.store.events``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from ottermq.keys import Keyspace
from ottermq.store.blueprint import RunBlueprint
from ottermq.store.types import (
    Ack,
    AckResult,
    ExpandResult,
    ExtendResult,
    FailResult,
    Failure,
    Lease,
    LeaseRef,
    PromoteResult,
    ReapResult,
    RequeueStatus,
    RunCreated,
    RunRequest,
    RunState,
)
from ottermq.store.wake import WakeListener

__all__ = ["Store"]


class Store(Protocol):
    keyspace: Keyspace

    def install(self, blueprint: RunBlueprint) -> str:
        """Copy a blueprint and its queue configs into every shard; returns its digest."""
        ...

    def create_run(self, blueprint: RunBlueprint, request: RunRequest) -> RunCreated:
        """Create a run (idempotent on ``request.run_id``); raises QueueFull under `reject`."""
        ...

    def create_runs(self, blueprint: RunBlueprint, requests: Sequence[RunRequest]) -> list[RunCreated]:
        """Create many runs in one call per shard; rejected runs carry ``rejected_by``."""
        ...

    def cancel_run(self, run_id: str) -> RunState:
        """Cancel a run; returns `cancelled` or the final state it already had; NotFound if unknown."""
        ...

    def lease(
        self,
        queues: Sequence[str],
        max_tasks: int,
        *,
        worker: str,
        lease_ms: int | None = None,
        shards: Iterable[int] | None = None,
    ) -> Lease:
        """Lease up to ``max_tasks`` ready tasks from ``queues`` (in preference order)."""
        ...

    def extend(self, refs: Sequence[LeaseRef], lease_ms: int | None = None) -> list[ExtendResult]:
        """Extend leases; a result is extended, lost or cancelled."""
        ...

    def ack(self, acks: Sequence[Ack]) -> list[AckResult]:
        """Complete tasks; their children become ready in the same atomic step."""
        ...

    def fail(self, failures: Sequence[Failure]) -> list[FailResult]:
        """Record failed attempts: retried after their delay, or dead-lettered."""
        ...

    def expand(self, ref: LeaseRef, item_inputs: Sequence[str]) -> ExpandResult:
        """Turn a leased fan-out task into item tasks; raises LeaseLost, RunCancelled, QueueFull."""
        ...

    def reap(self, shard: int | None = None, limit: int = 1000) -> ReapResult:
        """Take back expired leases; safe to call from many processes."""
        ...

    def promote(self, shard: int | None = None, queues: Sequence[str] = (), limit: int = 1000) -> PromoteResult:
        """Move due delayed tasks to ready; returns when the next one is due."""
        ...

    def dlq_requeue(self, unit_ids: Sequence[str], new_input: str | None = None) -> list[RequeueStatus]:
        """Requeue dead-lettered tasks (fresh attempts); their runs resume."""
        ...

    def dlq_purge(self, unit_ids: Sequence[str]) -> int:
        """Drop dead-letter entries for good."""
        ...

    def dlq_requeue_all(self, queue: str, new_input: str | None = None, batch: int = 500) -> int:
        """Requeue every dead-lettered task of a queue."""
        ...

    def dlq_purge_all(self, queue: str, batch: int = 500) -> int:
        """Purge a whole dead-letter queue."""
        ...

    def wake_listener(self, queues: Sequence[str]) -> WakeListener:
        """Subscribe to new-work announcements for ``queues``."""
        ...

    def close(self) -> None: ...
