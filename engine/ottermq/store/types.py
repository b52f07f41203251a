"""The values that cross the store boundary: requests, leased tasks, typed results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "Ack",
    "AckResult",
    "AckStatus",
    "ExpandResult",
    "ExtendResult",
    "ExtendStatus",
    "FailResult",
    "FailStatus",
    "Failure",
    "Lease",
    "LeaseRef",
    "LeasedTask",
    "PromoteResult",
    "ReapResult",
    "RequeueStatus",
    "RunCreated",
    "RunRequest",
    "RunState",
    "TaskState",
    "UnitState",
]


class RunState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_RUN_STATES = frozenset({RunState.PENDING, RunState.RUNNING})
FINISHED_RUN_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED})


class TaskState(StrEnum):
    """The state of a task of a run (for a fanned-out task: of all its items together)."""

    WAITING = "waiting"
    ACTIVE = "active"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class UnitState(StrEnum):
    """The state of one executable unit: a task, or one item of a fanned-out task."""

    READY = "ready"
    DELAYED = "delayed"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    EXPANDED = "expanded"
    DEAD = "dead"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class RunRequest:
    """One run to create. ``run_id`` doubles as the idempotency id."""

    params_json: str = "{}"
    run_id: str | None = None
    priority: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    # Rendered input (JSON text) of root tasks, by task name.
    inputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunCreated:
    run_id: str
    created: bool
    # pending when just created, its current state when it existed, None when rejected.
    state: RunState | None
    # The full queue (overflow policy reject) that kept the run from being created.
    rejected_by: str | None = None


@dataclass(frozen=True, slots=True)
class LeaseRef:
    unit_id: str
    token: str


@dataclass(frozen=True, slots=True)
class LeasedTask:
    unit_id: str
    run_id: str
    task: str
    item: int | None
    attempt: int
    token: str
    deadline_ms: int
    queue: str
    # True for a fan-out task: render its list and call Store.expand, do not run a handler.
    expand: bool
    pipeline: str
    plan_version: int
    plan_hash: str
    input: str | None
    params: str
    # (task name, output JSON) of each task this one needs, in declaration order.
    needs: tuple[tuple[str, str], ...]

    @property
    def ref(self) -> LeaseRef:
        return LeaseRef(self.unit_id, self.token)


@dataclass(frozen=True, slots=True)
class Lease:
    tasks: tuple[LeasedTask, ...]
    # When the batch is not full: the earliest time (ms) more work may become leasable
    # without a wake-up (a delayed task coming due, a rate window ending); None if unknown.
    wake_at_ms: int | None


@dataclass(frozen=True, slots=True)
class Ack:
    unit_id: str
    token: str
    output: str


@dataclass(frozen=True, slots=True)
class Failure:
    unit_id: str
    token: str
    kind: str
    message: str
    # None: permanent, dead-letter now. Otherwise the retry delay from outcome.decide().
    retry_delay_ms: int | None


class AckStatus(StrEnum):
    DONE = "done"
    DUPLICATE = "duplicate"
    LOST = "lost"
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"
    WRONG_KIND = "wrong_kind"


@dataclass(frozen=True, slots=True)
class AckResult:
    unit_id: str
    status: AckStatus


class FailStatus(StrEnum):
    RETRIED = "retried"
    DEAD = "dead"
    LOST = "lost"
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class FailResult:
    unit_id: str
    status: FailStatus
    due_ms: int | None = None
    # Why it was dead-lettered: exhausted, permanent, "not retried: <kind>".
    reason: str | None = None


class ExtendStatus(StrEnum):
    EXTENDED = "extended"
    LOST = "lost"
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class ExtendResult:
    unit_id: str
    status: ExtendStatus
    deadline_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ExpandResult:
    unit_id: str
    items: int


class RequeueStatus(StrEnum):
    REQUEUED = "requeued"
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"
    NOT_DEAD = "not_dead"


@dataclass(frozen=True, slots=True)
class ReapResult:
    reaped: int
    next_deadline_ms: int | None


@dataclass(frozen=True, slots=True)
class PromoteResult:
    promoted: int
    next_due_ms: int | None
