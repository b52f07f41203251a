"""What the store executes: queue configs and run blueprints, as frozen JSON-able values.

The compiler's ExecutionPlan is converted into a :class:`RunBlueprint`; the store
keeps a copy of it (and of its queue configs) in every shard that runs it, so the
Lua scripts can read a task's needs, retries and queue without leaving the slot.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ottermq.errors import BlueprintError
from ottermq.keys import is_valid_name

__all__ = [
    "Backoff",
    "BackoffKind",
    "Batch",
    "CompositeStrategy",
    "DeadLetter",
    "OnFailure",
    "Overflow",
    "QueueConfig",
    "QueueKind",
    "RateLimit",
    "RunBlueprint",
    "TaskBlueprint",
    "retry_delay_ms",
]

PRIORITY_LEVELS_MAX = 1000
# A run's initial state is written in one HSET of two fields per task; Lua's unpack()
# of a script call's arguments stops near 8000 values.
TASKS_MAX = 1000


class QueueKind(StrEnum):
    FIFO = "fifo"
    LIFO = "lifo"
    PRIORITY = "priority"
    DELAYED = "delayed"
    COMPOSITE = "composite"


class Overflow(StrEnum):
    REJECT = "reject"
    DROP_OLDEST = "drop_oldest"


class CompositeStrategy(StrEnum):
    STRICT = "strict"
    WEIGHTED = "weighted"


class OnFailure(StrEnum):
    FAIL = "fail"
    CONTINUE = "continue"
    SKIP = "skip"


class BackoffKind(StrEnum):
    FIXED = "fixed"
    EXPONENTIAL = "exponential"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` leases per ``window_ms`` (fixed window)."""

    count: int
    window_ms: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    enabled: bool = True
    # None keeps dead-lettered tasks (and their runs) until requeued or purged.
    retention_ms: int | None = None


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    kind: QueueKind = QueueKind.FIFO
    # Priority queues: priorities run from 0 to levels-1, higher leased first.
    levels: int = 10
    members: tuple[str, ...] = ()
    strategy: CompositeStrategy = CompositeStrategy.STRICT
    weights: tuple[int, ...] = ()
    max_size: int | None = None
    on_full: Overflow = Overflow.REJECT
    concurrency: int | None = None
    rate_limit: RateLimit | None = None
    dead_letter: DeadLetter = field(default_factory=DeadLetter)
    # None: the installation's default retention (settings.retention_ms).
    retention_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Backoff:
    kind: BackoffKind = BackoffKind.EXPONENTIAL
    initial_ms: int = 1000
    max_ms: int = 60_000
    # 0..1: the share of the delay that is randomised away (1 = "full jitter").
    jitter: float = 0.0


@dataclass(frozen=True, slots=True)
class Batch:
    size: int
    max_wait_ms: int


DEFAULT_RETRY_ON: tuple[str, ...] = ("error", "timeout", "trap", "out_of_memory")


@dataclass(frozen=True, slots=True)
class TaskBlueprint:
    name: str
    queue: str
    needs: tuple[str, ...] = ()
    max_attempts: int = 3
    backoff: Backoff = field(default_factory=Backoff)
    retry_on: tuple[str, ...] = DEFAULT_RETRY_ON
    timeout_ms: int | None = None
    priority: int = 0
    delay_ms: int = 0
    fan_out: bool = False
    on_failure: OnFailure = OnFailure.FAIL
    batch: Batch | None = None


@dataclass(frozen=True, slots=True)
class RunBlueprint:
    pipeline: str
    plan_version: int
    plan_hash: str
    tasks: tuple[TaskBlueprint, ...]
    queues: tuple[QueueConfig, ...]

    def task(self, name: str) -> TaskBlueprint:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(name)

    def queue(self, name: str) -> QueueConfig:
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise KeyError(name)

    @property
    def roots(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tasks if not t.needs)

    def to_json(self) -> str:
        return json.dumps(_plain(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> RunBlueprint:
        data = json.loads(text)
        return cls(
            pipeline=data["pipeline"],
            plan_version=int(data["plan_version"]),
            plan_hash=data["plan_hash"],
            tasks=tuple(_task_from(t) for t in data["tasks"]),
            queues=tuple(_queue_from(q) for q in data["queues"]),
        )

    def digest(self) -> str:
        """Content address of this blueprint (the key of its per-shard copies)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:20]

    def validate(self) -> None:
        """Raise BlueprintError listing every problem the store cannot execute."""
        problems = _problems(self)
        if problems:
            raise BlueprintError(problems)


def retry_delay_ms(backoff: Backoff, attempt: int, unit_random: float) -> int:
    """The delay before retry number ``attempt`` (1 = after the first failure).

    ``unit_random`` is in [0, 1). ``lua/lib/dag.lua`` (``backoff_ms``) computes the
    same formula for expired leases, so the worker and the reaper agree.
    """
    if backoff.kind is BackoffKind.FIXED:
        base = float(backoff.initial_ms)
    else:
        base = backoff.initial_ms * 2.0 ** max(attempt - 1, 0)
    base = min(base, float(backoff.max_ms))
    return int(base * (1.0 - backoff.jitter * unit_random))


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _task_from(data: dict[str, Any]) -> TaskBlueprint:
    batch = data.get("batch")
    return TaskBlueprint(
        name=data["name"],
        queue=data["queue"],
        needs=tuple(data.get("needs", ())),
        max_attempts=int(data.get("max_attempts", 3)),
        backoff=Backoff(**{**data["backoff"], "kind": BackoffKind(data["backoff"]["kind"])})
        if data.get("backoff")
        else Backoff(),
        retry_on=tuple(data.get("retry_on", DEFAULT_RETRY_ON)),
        timeout_ms=data.get("timeout_ms"),
        priority=int(data.get("priority", 0)),
        delay_ms=int(data.get("delay_ms", 0)),
        fan_out=bool(data.get("fan_out", False)),
        on_failure=OnFailure(data.get("on_failure", "fail")),
        batch=Batch(**batch) if batch else None,
    )


def _queue_from(data: dict[str, Any]) -> QueueConfig:
    rate = data.get("rate_limit")
    dead = data.get("dead_letter") or {}
    return QueueConfig(
        name=data["name"],
        kind=QueueKind(data.get("kind", "fifo")),
        levels=int(data.get("levels", 10)),
        members=tuple(data.get("members", ())),
        strategy=CompositeStrategy(data.get("strategy", "strict")),
        weights=tuple(int(w) for w in data.get("weights", ())),
        max_size=data.get("max_size"),
        on_full=Overflow(data.get("on_full", "reject")),
        concurrency=data.get("concurrency"),
        rate_limit=RateLimit(**rate) if rate else None,
        dead_letter=DeadLetter(**dead),
        retention_ms=data.get("retention_ms"),
    )


def _problems(bp: RunBlueprint) -> list[str]:
    out: list[str] = []
    queues = {q.name: q for q in bp.queues}
    names = [t.name for t in bp.tasks]
    for name in [*names, *queues, bp.pipeline]:
        if not is_valid_name(name):
            out.append(f"name {name!r}: no braces, '|', quotes, backslashes, spaces or control characters")
    if len(set(names)) != len(names):
        out.append("task names must be unique")
    seen: set[str] = set()
    for task in bp.tasks:
        for need in task.needs:
            if need not in seen:
                out.append(f"task {task.name!r} needs {need!r}, which is not an earlier task")
        seen.add(task.name)
        queue = queues.get(task.queue)
        if queue is None:
            out.append(f"task {task.name!r} uses queue {task.queue!r}, which the blueprint does not declare")
        elif queue.kind is QueueKind.COMPOSITE:
            out.append(f"task {task.name!r} targets composite queue {task.queue!r}; tasks go to member queues")
        if task.max_attempts < 1:
            out.append(f"task {task.name!r}: max_attempts must be at least 1")
        if not 0.0 <= task.backoff.jitter <= 1.0:
            out.append(f"task {task.name!r}: backoff jitter must be between 0 and 1")
    for queue in bp.queues:
        out.extend(_queue_problems(queue, queues))
    if not bp.roots:
        out.append("a blueprint needs at least one task without needs")
    if len(bp.tasks) > TASKS_MAX:
        out.append(f"a blueprint has at most {TASKS_MAX} tasks ({len(bp.tasks)} given)")
    return out


def _queue_problems(queue: QueueConfig, queues: dict[str, QueueConfig]) -> list[str]:
    out: list[str] = []
    if queue.kind is QueueKind.PRIORITY and not 1 <= queue.levels <= PRIORITY_LEVELS_MAX:
        out.append(f"queue {queue.name!r}: levels must be between 1 and {PRIORITY_LEVELS_MAX}")
    if queue.kind is QueueKind.COMPOSITE:
        if not queue.members:
            out.append(f"composite queue {queue.name!r} has no members")
        for member in queue.members:
            target = queues.get(member)
            if target is None:
                out.append(f"composite queue {queue.name!r}: member {member!r} is not declared")
            elif target.kind is QueueKind.COMPOSITE:
                out.append(f"composite queue {queue.name!r}: member {member!r} is itself composite")
        if queue.strategy is CompositeStrategy.WEIGHTED and (
            len(queue.weights) != len(queue.members) or any(w < 1 for w in queue.weights)
        ):
            out.append(f"composite queue {queue.name!r}: one positive weight per member is required")
    for label, value in (("max_size", queue.max_size), ("concurrency", queue.concurrency)):
        if value is not None and value < 1:
            out.append(f"queue {queue.name!r}: {label} must be at least 1")
    if queue.rate_limit is not None and (queue.rate_limit.count < 1 or queue.rate_limit.window_ms < 1):
        out.append(f"queue {queue.name!r}: rate_limit count and window must be positive")
    return out
