"""A compact, human-readable rendering of an ExecutionPlan."""

from __future__ import annotations

import json
from typing import Any

from ottermq.plan import ExecutionPlan, HandlerPlan, QueuePlan, RetryPlan, SchedulePlan, TaskPlan
from ottermq.units import format_duration_ms


def _size(n: int) -> str:
    for unit, size in (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if n % size == 0:
            return f"{n // size}{unit}"
    return f"{n}B"


def format_plan(plan: ExecutionPlan) -> str:
    lines = [f"pipeline {plan.pipeline}  {plan.hash[:19]}  ({_counts(plan)})"]
    if plan.description:
        lines.append(f"  {plan.description.strip()}")
    if plan.source:
        lines.append(f"  source: {plan.source}")
    props: dict[str, Any] = plan.params_schema["properties"]
    if props:
        lines.append("  params:")
        required = set(plan.params_schema["required"])
        for name, spec in props.items():
            lines.append(f"    {name}: {_param(spec, name in required)}")
    lines.append("  queues:")
    lines += [f"    {_queue(q)}" for q in plan.queues]
    if plan.handlers:
        lines.append("  handlers:")
        lines += [f"    {_handler(h)}" for h in plan.handlers]
    lines.append("  tasks (in order):")
    for i, task in enumerate(plan.tasks, 1):
        lines.append(f"    {i}. {_task(task)}")
    if plan.schedules:
        lines.append("  schedules:")
        lines += [f"    {_schedule(s)}" for s in plan.schedules]
    return "\n".join(lines) + "\n"


def _counts(plan: ExecutionPlan) -> str:
    parts = [(len(plan.tasks), "task"), (len(plan.queues), "queue"), (len(plan.handlers), "handler"), (len(plan.schedules), "schedule")]
    return ", ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in parts if n or word == "task")


def _param(spec: dict[str, Any], required: bool) -> str:
    text = spec.get("type", "string")
    text += ", required" if required else ""
    if "default" in spec:
        text += f", default {json.dumps(spec['default'])}"
    if "enum" in spec:
        text += f", one of {', '.join(map(str, spec['enum']))}"
    return text


def _queue(q: QueuePlan) -> str:
    parts = [f"{q.name:<14} {q.kind}"]
    if q.levels:
        parts.append(f"levels={q.levels}")
    if q.delay_ms:
        parts.append(f"delay={format_duration_ms(q.delay_ms)}")
    if q.members:
        members = ", ".join(m.queue + (f"×{m.weight}" if q.strategy == "weighted" else "") for m in q.members)
        parts.append(f"{q.strategy}[{members}]")
    if q.max_size:
        parts.append(f"max_size={q.max_size} ({q.on_full})")
    if q.concurrency:
        parts.append(f"concurrency={q.concurrency}")
    if q.rate_limit:
        parts.append(f"rate={q.rate_limit.count}/{format_duration_ms(q.rate_limit.per_ms)}")
    if q.kind != "composite":
        parts.append(f"dlq={format_duration_ms(q.dead_letter_retention_ms)}" if q.dead_letter else "dlq=off")
        parts.append(f"retention={format_duration_ms(q.retention_ms)}")
    return "  ".join(parts)


def _handler(h: HandlerPlan) -> str:
    parts = [f"{h.name:<14} {h.module}", h.digest[:19], f"abi={h.abi}", f"memory={_size(h.memory_bytes)}", f"timeout={format_duration_ms(h.timeout_ms)}"]
    if h.fuel:
        parts.append(f"fuel={h.fuel}")
    if h.env:
        parts.append(f"env={','.join(h.env)}")
    if h.dirs:
        parts.append("dirs=" + ",".join(f"{d.host}:{d.guest}:{'ro' if d.read_only else 'rw'}" for d in h.dirs))
    if h.reuse_instance:
        parts.append("reuse_instance")
    return "  ".join(parts)


def _retry(r: RetryPlan) -> str:
    if r.max_attempts == 1:
        return "no retry"
    return f"retry {r.max_attempts}x {r.backoff} {format_duration_ms(r.initial_ms)}..{format_duration_ms(r.max_ms)}"


def _task(t: TaskPlan) -> str:
    parts = [f"{t.name:<14} handler={t.handler}", f"queue={t.queue}"]
    if t.needs:
        parts.append(f"needs={','.join(t.needs)}")
    if t.for_each is not None:
        parts.append("fan-out")
    if t.batch:
        parts.append(f"batch={t.batch.size}/{format_duration_ms(t.batch.max_wait_ms)}")
    parts.append(_retry(t.retry))
    parts.append(f"timeout={format_duration_ms(t.timeout_ms)}")
    if t.priority:
        parts.append(f"priority={t.priority}")
    if t.delay_ms:
        parts.append(f"delay={format_duration_ms(t.delay_ms)}")
    if t.on_failure != "fail":
        parts.append(f"on_failure={t.on_failure}")
    return "  ".join(parts)


def _schedule(s: SchedulePlan) -> str:
    when = f'cron "{s.cron}" {s.timezone}' if s.cron else f"every {format_duration_ms(s.interval_ms or 0)}"
    text = f"{s.name:<14} {when}  catch_up={s.catch_up}  overlap={s.overlap}"
    return text + ("" if s.enabled else "  (disabled)")
