"""Render a task's input (and fan-out list) from params, run metadata and upstream outputs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ottermq.errors import TemplateError
from ottermq.plan import ExecutionPlan, TaskPlan
from ottermq.templating import TemplateEngine

__all__ = ["run_context", "run_envelope", "render_input", "render_for_each", "render_root_inputs"]


def run_envelope(params: Mapping[str, Any], created_at: str, priority: int) -> str:
    """The JSON a run stores: its params and the metadata its templates see as `run`."""
    return json.dumps({"params": params, "created_at": created_at, "priority": priority}, separators=(",", ":"))


def run_context(
    plan: ExecutionPlan,
    params: Mapping[str, Any],
    *,
    run_id: str,
    version: int | None,
    created_at: str | None,
    priority: int = 0,
    outputs: Mapping[str, Any] | None = None,
    attempt: int = 1,
) -> dict[str, Any]:
    """The variables every template of a run sees."""
    return {
        "attempt": attempt,
        "params": dict(params),
        "run": {"id": run_id, "pipeline": plan.pipeline, "version": version, "created_at": created_at, "priority": priority},
        "tasks": {name: {"output": value, "state": "succeeded"} for name, value in (outputs or {}).items()},
    }


def render_input(engine: TemplateEngine, task: TaskPlan, context: Mapping[str, Any], item: Any = None, index: int | None = None) -> Any:
    scope = dict(context)
    if index is not None:
        scope["item"] = item
        scope["index"] = index
    try:
        return engine.render_value(task.input, scope)
    except TemplateError as exc:
        raise TemplateError(f"task `{task.name}` input: {exc}") from None


def render_for_each(engine: TemplateEngine, task: TaskPlan, context: Mapping[str, Any]) -> list[Any]:
    """The items a fan-out task runs over."""
    try:
        items = engine.render_value(task.for_each, context)
    except TemplateError as exc:
        raise TemplateError(f"task `{task.name}` for_each: {exc}") from None
    if not isinstance(items, list):
        raise TemplateError(f"task `{task.name}` for_each must give a list, got {type(items).__name__}")
    return items


def render_root_inputs(engine: TemplateEngine, plan: ExecutionPlan, context: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs of the root tasks: one value, or a list of per-item values for fan-out roots."""
    out: dict[str, Any] = {}
    for task in plan.roots:
        if task.for_each is None:
            out[task.name] = render_input(engine, task, context)
        else:
            items = render_for_each(engine, task, context)
            out[task.name] = [render_input(engine, task, context, item, i) for i, item in enumerate(items)]
    return out
