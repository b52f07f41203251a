"""Turn an ExecutionPlan into the RunBlueprint the store executes."""

from __future__ import annotations

from ottermq.plan import ExecutionPlan, QueuePlan, RetryPlan, TaskPlan
from ottermq.store.blueprint import (
    Backoff,
    BackoffKind,
    Batch,
    CompositeStrategy,
    DeadLetter,
    OnFailure,
    Overflow,
    QueueConfig,
    QueueKind,
    RateLimit,
    RunBlueprint,
    TaskBlueprint,
)

__all__ = ["backoff_of", "blueprint_of"]


def blueprint_of(plan: ExecutionPlan, version: int) -> RunBlueprint:
    """The store's view of ``plan`` at ``version``: the DAG, retry rules and the queues it uses."""
    used = {t.queue for t in plan.tasks}
    queues = tuple(_queue(q) for q in plan.queues if q.name in used or q.kind == "composite")
    return RunBlueprint(
        pipeline=plan.pipeline,
        plan_version=version,
        plan_hash=plan.hash,
        tasks=tuple(_task(t) for t in plan.tasks),
        queues=queues,
    )


def _queue(q: QueuePlan) -> QueueConfig:
    weights = tuple(m.weight for m in q.members) if q.strategy == "weighted" else ()
    return QueueConfig(
        name=q.name,
        kind=QueueKind(q.kind),
        levels=q.levels or 10,
        members=tuple(m.queue for m in q.members),
        strategy=CompositeStrategy(q.strategy or "strict"),
        weights=weights,
        max_size=q.max_size,
        on_full=Overflow(q.on_full),
        concurrency=q.concurrency,
        rate_limit=RateLimit(q.rate_limit.count, q.rate_limit.per_ms) if q.rate_limit else None,
        dead_letter=DeadLetter(enabled=q.dead_letter, retention_ms=q.dead_letter_retention_ms),
        retention_ms=q.retention_ms,
    )


def backoff_of(policy: RetryPlan) -> Backoff:
    """The store's form of a task's backoff (the reaper computes the same delays in Lua)."""
    return Backoff(kind=BackoffKind(policy.backoff), initial_ms=policy.initial_ms, max_ms=policy.max_ms, jitter=policy.jitter)


def _task(t: TaskPlan) -> TaskBlueprint:
    r = t.retry
    return TaskBlueprint(
        name=t.name,
        queue=t.queue,
        needs=t.needs,
        max_attempts=r.max_attempts,
        backoff=backoff_of(r),
        retry_on=r.on,
        timeout_ms=t.timeout_ms,
        priority=t.priority,
        delay_ms=t.delay_ms,
        fan_out=t.for_each is not None,
        on_failure=OnFailure(t.on_failure),
        batch=Batch(t.batch.size, t.batch.max_wait_ms) if t.batch else None,
    )
