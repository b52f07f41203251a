"""Run leased tasks: render the input, call the handler, decide what the result means.

Nothing here writes to Redis: it turns leased tasks into completions (ack, retry,
dead-letter, expand) that the worker writes back in batches. Plans and modules are read
through the caches; when Redis is unreachable that read raises StoreUnavailable before
the handler has run, and the worker retries the whole call.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ottermq.errors import OtterError, StoreUnavailable
from ottermq.plan import ExecutionPlan, TaskPlan
from ottermq.rendering import render_for_each, render_input, run_context
from ottermq.store.types import LeasedTask
from ottermq.templating import TemplateEngine
from ottermq.wasm import CallResult
from ottermq.worker.outcome import Complete, DeadLetter, Decision, decide
from ottermq.worker.plans import HandlerCache, PlanCache

__all__ = ["Completion", "Executor"]

@dataclass(frozen=True, slots=True)
class Completion:
    task: LeasedTask
    decision: Decision | None  # None for an expansion
    items: tuple[str, ...] = ()  # rendered item inputs of a fan-out task
    elapsed_ms: float = 0.0
    stderr: str = ""


class Executor:
    """Turns leased tasks into completions; safe to call from many threads."""

    def __init__(self, plans: PlanCache, handlers: HandlerCache, *, rng: Callable[[], float] | None = None) -> None:
        self._plans = plans
        self._handlers = handlers
        self._random = rng or random.random
        # Parsed templates are cached per engine; one engine per executor thread.
        self._local = threading.local()

    def _engine(self) -> TemplateEngine:
        engine: TemplateEngine | None = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = TemplateEngine()
        return engine

    def batch_size(self, task: LeasedTask) -> int:
        """How many items of this task one handler call takes (1 unless the task has `batch`)."""
        batch = self._plans.get(task.plan_hash).task(task.task).batch
        return batch.size if batch else 1

    def run(self, task: LeasedTask) -> Completion:
        """One task (or the expansion of a fan-out task)."""
        try:
            plan = self._plans.get(task.plan_hash)
            spec = plan.task(task.task)
            context = self._context(plan, task)
            if task.expand:
                return self._expand(task, spec, context)
            payload = task.input if task.input is not None else json.dumps(render_input(self._engine(), spec, context))
            handler = self._handlers.get(plan, plan.handler(spec.handler), spec.timeout_ms)
        except StoreUnavailable:
            raise  # an outage, not the task's fault: nothing has run yet
        except OtterError as exc:
            # A template that fails at run time or a module that cannot load: retrying cannot help.
            return Completion(task, DeadLetter("error", str(exc), "permanent"))
        return self._finish(task, spec, handler.call(payload))

    def run_batch(self, tasks: Sequence[LeasedTask]) -> list[Completion]:
        """Tasks of one batch task: one handler call with the list of inputs; outputs are split back."""
        try:
            plan = self._plans.get(tasks[0].plan_hash)
            spec = plan.task(tasks[0].task)
            inputs = [t.input if t.input is not None else json.dumps(render_input(self._engine(), spec, self._context(plan, t)))
                      for t in tasks]
            handler = self._handlers.get(plan, plan.handler(spec.handler), spec.timeout_ms)
        except StoreUnavailable:
            raise
        except OtterError as exc:
            return [Completion(t, DeadLetter("error", str(exc), "permanent")) for t in tasks]
        result = handler.call("[" + ",".join(inputs) + "]")
        if not result.ok:
            return [self._finish(t, spec, result) for t in tasks]
        outputs = json.loads(result.output or "null")
        if not isinstance(outputs, list) or len(outputs) != len(tasks):
            message = (f"batch handler returned {type(outputs).__name__} for {len(tasks)} items; "
                       f"expected a list of {len(tasks)} outputs")
            return [Completion(t, DeadLetter("invalid_output", message, "permanent")) for t in tasks]
        share = result.elapsed_ms / len(tasks)
        return [
            Completion(t, Complete(json.dumps(out, separators=(",", ":"))), (), share, result.stderr)
            for t, out in zip(tasks, outputs, strict=True)
        ]

    def internal_failure(self, task: LeasedTask, exc: BaseException) -> Completion:
        """A bug in the worker while running ``task``: retried like a handler error, never lost."""
        return self.refused(task, "error", f"internal error in the worker: {type(exc).__name__}: {exc}")

    def refused(self, task: LeasedTask, kind: str, message: str) -> Completion:
        """A failure that is not the handler's (the worker, a full queue): the task's retry policy decides."""
        try:
            policy = self._plans.get(task.plan_hash).task(task.task).retry
        except Exception:  # noqa: BLE001 - without the plan, fall back to the default policy
            from ottermq.plan import RetryPlan

            policy = RetryPlan()
        decision = decide(ok=False, output=None, kind=kind, message=message, permanent=False,
                          attempt=task.attempt, policy=policy, random=self._random)
        return Completion(task, decision)

    def _context(self, plan: ExecutionPlan, task: LeasedTask) -> dict[str, Any]:
        envelope = json.loads(task.params or "{}")
        outputs = {name: json.loads(text) if text else None for name, text in task.needs}
        context = run_context(
            plan, envelope.get("params", {}), run_id=task.run_id, version=task.plan_version,
            created_at=envelope.get("created_at"), priority=envelope.get("priority", 0), outputs=outputs, attempt=task.attempt,
        )
        return context

    def _expand(self, task: LeasedTask, spec: TaskPlan, context: dict[str, Any]) -> Completion:
        engine = self._engine()
        items = render_for_each(engine, spec, context)
        rendered = tuple(
            json.dumps(render_input(engine, spec, context, item, index), separators=(",", ":"))
            for index, item in enumerate(items)
        )
        return Completion(task, None, rendered)

    def _finish(self, task: LeasedTask, spec: TaskPlan, result: CallResult) -> Completion:
        decision = decide(
            ok=result.ok, output=result.output, kind=str(result.kind) if result.kind else None, message=result.error,
            permanent=result.permanent, attempt=task.attempt, policy=spec.retry, random=self._random,
        )
        return Completion(task, decision, (), result.elapsed_ms, result.stderr)
