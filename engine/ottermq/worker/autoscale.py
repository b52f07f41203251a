"""How many worker processes: a pure decision from a load sample, tested without processes.

Inputs per sample: the backlog (ready tasks, due delayed tasks included, in the consumed
queues), the tasks in flight, and the running total of finished attempts, from which the
throughput is estimated. From them:

- *pressure*: there is a backlog, the executor slots are busy (in flight >= busy_ratio of
  processes x concurrency: more processes only help when the ones we have are saturated,
  not when a queue's concurrency or rate limit holds the work back), and at the current
  throughput the backlog would wait longer than ``target_wait_ms``;
- *slack*: no backlog, and one process fewer would still be at most ``idle_ratio`` busy.

Hysteresis: pressure must last ``up_after_ms`` and slack ``down_after_ms`` (longer) before
anything changes, a change restarts both clocks, and two changes are at least
``cooldown_ms`` apart. Between pressure and slack lies a wide band where nothing changes,
so the count does not flap. Scaling up grows in proportion to the expected wait (at most
doubling per step); scaling down retires one process at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

__all__ = ["LoadSample", "ScaleDecision", "ScalePolicy", "ScaleState", "decide", "parse_processes"]

RATE_SMOOTHING = 0.5  # weight of the newest throughput measurement


@dataclass(frozen=True, slots=True)
class ScalePolicy:
    minimum: int
    maximum: int
    concurrency: int  # executor threads per process
    target_wait_ms: int = 2_000
    busy_ratio: float = 0.75
    idle_ratio: float = 0.5
    up_after_ms: int = 2_000
    down_after_ms: int = 30_000
    cooldown_ms: int = 5_000
    max_growth: float = 2.0


@dataclass(frozen=True, slots=True)
class LoadSample:
    at_ms: int
    backlog: int  # ready + due delayed tasks in the consumed queues
    in_flight: int  # leased tasks of the consumed queues
    finished: int  # running total of finished attempts (succeeded + failed)


@dataclass(frozen=True, slots=True)
class ScaleState:
    last: LoadSample | None = None
    rate: float | None = None  # finished attempts per second, smoothed
    pressure_since_ms: int | None = None
    slack_since_ms: int | None = None
    changed_at_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ScaleDecision:
    target: int
    reason: str  # why the count changes ('' when it does not)
    state: ScaleState


def parse_processes(text: str, cpu_count: int) -> tuple[int, int]:
    """`N`, `auto` (1 to the number of CPUs) or `MIN:MAX` as (minimum, maximum); ValueError if invalid."""
    value = text.strip().lower()
    if value == "auto":
        return 1, max(1, cpu_count)
    low, sep, high = value.partition(":")
    try:
        minimum = int(low)
        maximum = int(high) if sep else minimum
    except ValueError:
        raise ValueError(f"`{text}` is not a number of processes (use N, auto or MIN:MAX)") from None
    if minimum < 1 or maximum < minimum:
        raise ValueError(f"`{text}`: need 1 <= MIN <= MAX")
    return minimum, maximum


def _rate(state: ScaleState, sample: LoadSample) -> float | None:
    last = state.last
    if last is None or sample.at_ms <= last.at_ms:
        return state.rate
    # A counter that went backwards (data flushed) says nothing about throughput.
    measured = max(sample.finished - last.finished, 0) * 1000 / (sample.at_ms - last.at_ms)
    if state.rate is None:
        return measured
    return RATE_SMOOTHING * measured + (1 - RATE_SMOOTHING) * state.rate


def _since(since_ms: int | None, now_ms: int) -> int:
    return now_ms if since_ms is None else since_ms


def decide(current: int, sample: LoadSample, state: ScaleState, policy: ScalePolicy) -> ScaleDecision:
    """The process count to run now, given ``current`` processes and the latest load sample."""
    rate = _rate(state, sample)
    now = sample.at_ms
    slots = max(current * policy.concurrency, 1)
    wait_ms = math.inf if not rate else sample.backlog / rate * 1000
    busy = sample.in_flight >= policy.busy_ratio * slots
    pressure = sample.backlog > 0 and busy and wait_ms > policy.target_wait_ms and current < policy.maximum
    slack = (sample.backlog == 0 and current > policy.minimum
             and sample.in_flight <= policy.idle_ratio * (current - 1) * policy.concurrency)
    state = ScaleState(
        last=sample,
        rate=rate,
        pressure_since_ms=_since(state.pressure_since_ms, now) if pressure else None,
        slack_since_ms=_since(state.slack_since_ms, now) if slack else None,
        changed_at_ms=state.changed_at_ms,
    )
    cooled = state.changed_at_ms is None or now - state.changed_at_ms >= policy.cooldown_ms
    target, reason = current, ""
    if current < policy.minimum or current > policy.maximum:
        target = min(max(current, policy.minimum), policy.maximum)
        reason = f"keep between {policy.minimum} and {policy.maximum}"
    elif pressure and cooled and state.pressure_since_ms is not None and now - state.pressure_since_ms >= policy.up_after_ms:
        growth = min(policy.max_growth, wait_ms / policy.target_wait_ms)
        target = min(policy.maximum, max(current + 1, math.ceil(current * growth)))
        wait = "unknown" if math.isinf(wait_ms) else f"~{wait_ms / 1000:.1f}s"
        reason = (f"backlog {sample.backlog}, {sample.in_flight} of {slots} slots busy, "
                  f"expected wait {wait} (target {policy.target_wait_ms / 1000:g}s)")
    elif slack and cooled and state.slack_since_ms is not None and now - state.slack_since_ms >= policy.down_after_ms:
        target = current - 1
        reason = (f"no backlog and {sample.in_flight} of {slots} slots busy "
                  f"for {(now - state.slack_since_ms) / 1000:.0f}s")
    if target != current:
        state = replace(state, pressure_since_ms=None, slack_since_ms=None, changed_at_ms=now)
    return ScaleDecision(target, reason, state)
