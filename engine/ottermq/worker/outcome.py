"""The failure decision: what a handler's result means for its task. Pure; tested without Redis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ottermq.blueprints import backoff_of
from ottermq.plan import RetryPlan
from ottermq.store.blueprint import retry_delay_ms

__all__ = ["Complete", "Retry", "DeadLetter", "Decision", "decide"]


@dataclass(frozen=True, slots=True)
class Complete:
    output: str


@dataclass(frozen=True, slots=True)
class Retry:
    delay_ms: int
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    kind: str
    message: str
    reason: str  # permanent | exhausted | not retried: <kind>


Decision = Complete | Retry | DeadLetter


def decide(
    *,
    ok: bool,
    output: str | None,
    kind: str | None,
    message: str | None,
    permanent: bool,
    attempt: int,
    policy: RetryPlan,
    random: Callable[[], float],
) -> Decision:
    """Complete, retry after a backoff, or dead-letter.

    ``attempt`` is the attempt that just ran (1 for the first). A permanent failure is
    never retried, nor a failure kind the task's `retry.on` does not list.
    """
    if ok:
        return Complete(output if output is not None else "null")
    failure_kind = kind or "error"
    text = message or failure_kind
    if permanent:
        return DeadLetter(failure_kind, text, "permanent")
    if failure_kind not in policy.on:
        return DeadLetter(failure_kind, text, f"not retried: {failure_kind}")
    if attempt >= policy.max_attempts:
        return DeadLetter(failure_kind, text, "exhausted")
    return Retry(retry_delay_ms(backoff_of(policy), attempt, random()), failure_kind, text)
