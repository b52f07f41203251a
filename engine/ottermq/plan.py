"""The execution plan: a pipeline compiled into immutable, hashable values.

A plan has every default filled in, its tasks in topological order, the sha256 of
every handler module and its templates already parsed. Its JSON form carries a
format version; its content hash is the sha256 of the canonical JSON (sorted keys,
no whitespace, no machine-specific paths), so the same files give the same hash on
every machine and in every process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ottermq.errors import InternalError

__all__ = [
    "PLAN_FORMAT",
    "BatchPlan",
    "DirGrantPlan",
    "ExecutionPlan",
    "HandlerPlan",
    "MemberPlan",
    "QueuePlan",
    "RatePlan",
    "RetryPlan",
    "SchedulePlan",
    "TaskPlan",
    "canonical_json",
]

PLAN_FORMAT = 1


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True, slots=True)
class RatePlan:
    count: int
    per_ms: int


@dataclass(frozen=True, slots=True)
class MemberPlan:
    queue: str
    weight: int = 1


@dataclass(frozen=True, slots=True)
class QueuePlan:
    name: str
    kind: str  # fifo | lifo | priority | delayed | composite
    levels: int | None = None
    delay_ms: int | None = None
    members: tuple[MemberPlan, ...] = ()
    strategy: str | None = None
    max_size: int | None = None
    on_full: str = "reject"
    concurrency: int | None = None
    rate_limit: RatePlan | None = None
    dead_letter: bool = True
    dead_letter_retention_ms: int = 14 * 86_400_000
    retention_ms: int = 7 * 86_400_000


@dataclass(frozen=True, slots=True)
class DirGrantPlan:
    host: str  # as written, relative to the pipeline file
    guest: str
    read_only: bool = True


@dataclass(frozen=True, slots=True)
class HandlerPlan:
    name: str
    module: str  # as written, relative to the pipeline file
    digest: str  # sha256 of the module bytes
    abi: str = "auto"
    memory_bytes: int = 64 * 1024 * 1024
    timeout_ms: int = 30_000
    fuel: int | None = None
    max_output_bytes: int = 1024 * 1024
    env: tuple[str, ...] = ()
    dirs: tuple[DirGrantPlan, ...] = ()
    reuse_instance: bool = False


@dataclass(frozen=True, slots=True)
class RetryPlan:
    max_attempts: int = 3
    backoff: str = "exponential"
    initial_ms: int = 1_000
    max_ms: int = 300_000
    jitter: float = 0.1
    on: tuple[str, ...] = ("error", "trap", "timeout", "out_of_memory", "out_of_fuel", "exit", "lease_expired")


@dataclass(frozen=True, slots=True)
class BatchPlan:
    size: int
    max_wait_ms: int = 1_000


@dataclass(frozen=True, slots=True)
class TaskPlan:
    name: str
    handler: str
    queue: str
    needs: tuple[str, ...] = ()
    dependents: tuple[str, ...] = ()
    input: Any = None  # JSON value; its strings are templates
    for_each: Any = None  # template string or literal list; None when the task does not fan out
    retry: RetryPlan = RetryPlan()
    timeout_ms: int = 30_000
    priority: int = 0
    delay_ms: int = 0
    batch: BatchPlan | None = None
    on_failure: str = "fail"  # fail | continue | skip
    uses: tuple[str, ...] = ()  # upstream tasks whose outputs its templates read
    description: str | None = None

    @property
    def is_root(self) -> bool:
        return not self.needs


@dataclass(frozen=True, slots=True)
class SchedulePlan:
    name: str
    cron: str | None = None
    interval_ms: int | None = None
    timezone: str = "UTC"
    params: Any = None
    catch_up: str = "latest"
    max_catch_up: int | None = None
    overlap: str = "skip"
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    pipeline: str
    params_schema: dict[str, Any]
    queues: tuple[QueuePlan, ...]
    handlers: tuple[HandlerPlan, ...]
    tasks: tuple[TaskPlan, ...]  # topological order
    schedules: tuple[SchedulePlan, ...] = ()
    description: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    notes: str | None = None
    format: int = PLAN_FORMAT
    # Where the plan came from; not part of its identity (paths differ between machines).
    source: str | None = field(default=None, compare=False)

    def task(self, name: str) -> TaskPlan:
        for task in self.tasks:
            if task.name == name:
                return task
        raise InternalError(f"plan `{self.pipeline}` has no task `{name}`")

    def handler(self, name: str) -> HandlerPlan:
        for handler in self.handlers:
            if handler.name == name:
                return handler
        raise InternalError(f"plan `{self.pipeline}` has no handler `{name}`")

    def queue(self, name: str) -> QueuePlan:
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise InternalError(f"plan `{self.pipeline}` has no queue `{name}`")

    @property
    def roots(self) -> tuple[TaskPlan, ...]:
        return tuple(t for t in self.tasks if t.is_root)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("source")
        return data

    def to_json(self, *, indent: int | None = None) -> str:
        if indent is None:
            return canonical_json(self.to_dict())
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, ensure_ascii=False)

    @property
    def hash(self) -> str:
        return "sha256:" + hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_json(cls, text: str | bytes) -> ExecutionPlan:
        return plan_from_dict(json.loads(text))


def plan_from_dict(data: dict[str, Any]) -> ExecutionPlan:
    """Rebuild a plan from its JSON form (as stored in Redis)."""
    if data.get("format") != PLAN_FORMAT:
        raise InternalError(f"plan format {data.get('format')} is not supported (this OtterMQ reads format {PLAN_FORMAT})")

    def queue(q: dict[str, Any]) -> QueuePlan:
        rate = q.get("rate_limit")
        return QueuePlan(
            **{**q, "members": tuple(MemberPlan(**m) for m in q["members"]), "rate_limit": RatePlan(**rate) if rate else None}
        )

    def handler(h: dict[str, Any]) -> HandlerPlan:
        return HandlerPlan(**{**h, "env": tuple(h["env"]), "dirs": tuple(DirGrantPlan(**d) for d in h["dirs"])})

    def task(t: dict[str, Any]) -> TaskPlan:
        retry = t["retry"]
        return TaskPlan(
            **{
                **t,
                "needs": tuple(t["needs"]),
                "dependents": tuple(t["dependents"]),
                "uses": tuple(t["uses"]),
                "retry": RetryPlan(**{**retry, "on": tuple(retry["on"])}),
                "batch": BatchPlan(**t["batch"]) if t.get("batch") else None,
            }
        )

    return ExecutionPlan(
        pipeline=data["pipeline"],
        params_schema=data["params_schema"],
        queues=tuple(queue(q) for q in data["queues"]),
        handlers=tuple(handler(h) for h in data["handlers"]),
        tasks=tuple(task(t) for t in data["tasks"]),
        schedules=tuple(SchedulePlan(**s) for s in data["schedules"]),
        description=data.get("description"),
        labels=data.get("labels", {}),
        notes=data.get("notes"),
        format=data["format"],
    )
