"""Compile a validated pipeline document into an ExecutionPlan.

A pure function of the document and the handler module digests (the caller reads
the files): defaults filled in, units converted, tasks in topological order,
dependents and template references computed. Call it only on documents that
passed validation; it does not report mistakes, it assumes there are none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ottermq.plan import (
    BatchPlan,
    DirGrantPlan,
    ExecutionPlan,
    HandlerPlan,
    MemberPlan,
    QueuePlan,
    RatePlan,
    RetryPlan,
    SchedulePlan,
    TaskPlan,
)
from ottermq.spec.checks import DEFAULT_QUEUE
from ottermq.templating import TemplateEngine, is_template
from ottermq.units import parse_duration_ms, parse_size_bytes

__all__ = ["compile_pipeline", "params_json_schema", "DEFAULT_PRIORITY_LEVELS"]

DEFAULT_PRIORITY_LEVELS = 10
_RATE = re.compile(r"^(\d+)\s*/\s*(.*)$")


def compile_pipeline(
    data: Mapping[str, Any],
    digests: Mapping[str, str],
    engine: TemplateEngine,
    *,
    source: str | None = None,
) -> ExecutionPlan:
    """``digests`` maps each handler name to the sha256 of its module."""
    queues = _queues(data)
    handlers = tuple(_handler(name, spec, digests[name]) for name, spec in data.get("handlers", {}).items())
    handler_timeouts = {h.name: h.timeout_ms for h in handlers}
    tasks = _tasks(data, handler_timeouts, engine)
    used = {t.queue for t in tasks}
    if DEFAULT_QUEUE in used and DEFAULT_QUEUE not in {q.name for q in queues}:
        queues = (*queues, QueuePlan(name=DEFAULT_QUEUE, kind="fifo"))
    return ExecutionPlan(
        pipeline=data["name"],
        params_schema=params_json_schema(data.get("params", {})),
        queues=tuple(sorted(queues, key=lambda q: q.name)),
        handlers=tuple(sorted(handlers, key=lambda h: h.name)),
        tasks=tasks,
        schedules=tuple(_schedule(name, spec) for name, spec in sorted(data.get("schedules", {}).items())),
        description=data.get("description"),
        labels=dict(data.get("labels", {})),
        notes=data.get("notes"),
        source=source,
    )


def params_json_schema(params: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema a run's params must satisfy."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    keymap = {"min_length": "minLength", "max_length": "maxLength"}
    for name, spec in params.items():
        prop: dict[str, Any] = {"type": spec.get("type", "string")}
        for key in ("description", "default", "enum", "minimum", "maximum", "min_length", "max_length", "pattern", "items"):
            if key in spec:
                prop[keymap.get(key, key)] = spec[key]
        properties[name] = prop
        if spec.get("required", "default" not in spec):
            required.append(name)
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": sorted(required),
    }


def _queues(data: Mapping[str, Any]) -> tuple[QueuePlan, ...]:
    out = []
    for name, spec in data.get("queues", {}).items():
        kind = spec.get("type", "fifo")
        dead_letter = spec.get("dead_letter", True)
        dl_enabled = dead_letter if isinstance(dead_letter, bool) else dead_letter.get("enabled", True)
        dl_retention = "14d" if isinstance(dead_letter, bool) else dead_letter.get("retention", "14d")
        members = tuple(
            MemberPlan(queue=m, weight=1) if isinstance(m, str) else MemberPlan(queue=m["queue"], weight=m.get("weight", 1))
            for m in spec.get("members", ())
        )
        out.append(
            QueuePlan(
                name=name,
                kind=kind,
                levels=spec.get("levels", DEFAULT_PRIORITY_LEVELS) if kind == "priority" else None,
                delay_ms=parse_duration_ms(spec["delay"]) if "delay" in spec else None,
                members=members,
                strategy=spec.get("strategy", "strict") if kind == "composite" else None,
                max_size=spec.get("max_size"),
                on_full=spec.get("on_full", "reject"),
                concurrency=spec.get("concurrency"),
                rate_limit=parse_rate(spec["rate_limit"]) if "rate_limit" in spec else None,
                dead_letter=dl_enabled,
                dead_letter_retention_ms=parse_duration_ms(dl_retention),
                retention_ms=parse_duration_ms(spec.get("retention", "7d")),
            )
        )
    return tuple(out)


def parse_rate(text: str) -> RatePlan:
    match = _RATE.match(text.strip())
    if not match:
        raise ValueError(f"`{text}` is not a rate")
    period = match.group(2).strip()
    if period and period[0].isalpha():
        period = "1" + period
    return RatePlan(count=int(match.group(1)), per_ms=parse_duration_ms(period))


def _handler(name: str, spec: Mapping[str, Any], digest: str) -> HandlerPlan:
    return HandlerPlan(
        name=name,
        module=spec["module"],
        digest=digest,
        abi=spec.get("abi", "auto"),
        memory_bytes=parse_size_bytes(spec.get("memory", "64Mi")),
        timeout_ms=parse_duration_ms(spec.get("timeout", "30s")),
        fuel=spec.get("fuel"),
        max_output_bytes=parse_size_bytes(spec.get("max_output", "1Mi")),
        env=tuple(spec.get("env", ())),
        dirs=tuple(DirGrantPlan(host=d["host"], guest=d["guest"], read_only=d.get("mode", "ro") == "ro") for d in spec.get("dirs", ())),
        reuse_instance=spec.get("reuse_instance", False),
    )


def _retry(spec: Mapping[str, Any]) -> RetryPlan:
    base = RetryPlan()
    return RetryPlan(
        max_attempts=spec.get("max_attempts", base.max_attempts),
        backoff=spec.get("backoff", base.backoff),
        initial_ms=parse_duration_ms(spec["initial"]) if "initial" in spec else base.initial_ms,
        max_ms=parse_duration_ms(spec["max"]) if "max" in spec else base.max_ms,
        jitter=float(spec.get("jitter", base.jitter)),
        on=tuple(spec["on"]) if "on" in spec else base.on,
    )


def topological_order(needs: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Kahn's algorithm; among ready tasks, declaration order decides (stable across runs)."""
    order: list[str] = []
    done: set[str] = set()
    pending = list(needs)
    while pending:
        ready = [name for name in pending if all(n in done for n in needs[name])]
        if not ready:
            raise ValueError(f"cycle among {', '.join(pending)}")
        for name in ready:
            order.append(name)
            done.add(name)
        pending = [name for name in pending if name not in done]
    return order


def _tasks(data: Mapping[str, Any], handler_timeouts: Mapping[str, int], engine: TemplateEngine) -> tuple[TaskPlan, ...]:
    defaults = data.get("defaults", {})
    specs = data["tasks"]
    needs = {name: tuple(spec.get("needs", ())) for name, spec in specs.items()}
    order = topological_order(needs)
    dependents: dict[str, list[str]] = {name: [] for name in specs}
    for name in order:
        for need in needs[name]:
            dependents[need].append(name)
    out = []
    for name in order:
        spec = specs[name]
        retry = _retry({**defaults.get("retry", {}), **spec.get("retry", {})})
        timeout = spec.get("timeout", defaults.get("timeout"))
        batch = spec.get("batch")
        out.append(
            TaskPlan(
                name=name,
                handler=spec["handler"],
                queue=spec.get("queue", defaults.get("queue", DEFAULT_QUEUE)),
                needs=needs[name],
                dependents=tuple(dependents[name]),
                input=spec.get("input"),
                for_each=spec.get("for_each"),
                retry=retry,
                timeout_ms=parse_duration_ms(timeout) if timeout else handler_timeouts[spec["handler"]],
                priority=spec.get("priority", defaults.get("priority", 0)),
                delay_ms=parse_duration_ms(spec["delay"]) if "delay" in spec else 0,
                batch=BatchPlan(size=batch["size"], max_wait_ms=parse_duration_ms(batch.get("max_wait", "1s"))) if batch else None,
                on_failure=spec.get("on_failure", defaults.get("on_failure", "fail")),
                uses=_uses(engine, spec, set(specs)),
                description=spec.get("description"),
            )
        )
    return tuple(out)


def _uses(engine: TemplateEngine, spec: Mapping[str, Any], task_names: set[str]) -> tuple[str, ...]:
    """The upstream tasks whose outputs this task's templates read (parsing them now, once)."""
    used: set[str] = set()
    for source in _template_strings(spec.get("input")) + _template_strings(spec.get("for_each")):
        engine.check_syntax(source)
        for ref in engine.analyse(source).references:
            if ref.root == "tasks" and ref.name in task_names:
                used.add(ref.name)
    return tuple(sorted(used))


def _template_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if is_template(value) else []
    if isinstance(value, list):
        return [s for v in value for s in _template_strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _template_strings(v)]
    return []


def _schedule(name: str, spec: Mapping[str, Any]) -> SchedulePlan:
    return SchedulePlan(
        name=name,
        cron=spec.get("cron"),
        interval_ms=parse_duration_ms(spec["interval"]) if "interval" in spec else None,
        timezone=spec.get("timezone", "UTC"),
        params=spec.get("params"),
        catch_up=spec.get("catch_up", "latest"),
        max_catch_up=spec.get("max_catch_up"),
        overlap=spec.get("overlap", "skip"),
        enabled=spec.get("enabled", True),
    )
