"""Static checks of the templates in a pipeline: syntax, sandbox, and what they refer to.

A template may use `params.NAME` (a declared param), `tasks.NAME.output` (a task among
its `needs`), `run` (id, pipeline, version, created_at, priority), `attempt`
(1 on the first try), and, in a fan-out task, `item` and `index`. Schedule params may use `schedule`. Anything else a
template names is reported here, at validate time, instead of failing a run later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2.exceptions import TemplateSyntaxError

from ottermq.spec.diagnostics import Diagnostic, JsonPath
from ottermq.spec.loader import SourceDocument
from ottermq.suggest import did_you_mean
from ottermq.templating import TemplateEngine, is_template

__all__ = ["template_checks", "RUN_FIELDS", "TASK_FIELDS", "SCHEDULE_FIELDS"]

RUN_FIELDS = ("id", "pipeline", "version", "created_at", "priority")
TASK_FIELDS = ("output", "error", "state")
SCHEDULE_FIELDS = ("name", "fire_time", "date")
_FILTERS_AND_GLOBALS = frozenset({"range", "dict"})


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        if is_template(value):
            yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*path, key))


def template_checks(doc: SourceDocument, engine: TemplateEngine) -> list[Diagnostic]:
    data = _mapping(doc.data)
    tasks = _mapping(data.get("tasks"))
    params = _mapping(data.get("params"))
    out: list[Diagnostic] = []
    for name, task in tasks.items():
        task = _mapping(task)
        upstream = _Upstream(tasks, name)
        fan_out = "for_each" in task
        scope = _Scope(params=params, tasks=tasks, upstream=upstream, allow_item=fan_out, allow_schedule=False, task=name)
        for path, source in _strings(task.get("input"), ("tasks", name, "input")):
            out.extend(_check(doc, engine, path, source, scope))
        item_free = _Scope(
            params=params, tasks=tasks, upstream=upstream, allow_item=False, allow_schedule=False, task=name, in_for_each=True
        )
        for path, source in _strings(task.get("for_each"), ("tasks", name, "for_each")):
            out.extend(_check(doc, engine, path, source, item_free))
    for name, schedule in _mapping(data.get("schedules")).items():
        scope = _Scope(params=params, tasks={}, upstream=_Upstream({}, ""), allow_item=False, allow_schedule=True, task=None)
        for path, source in _strings(_mapping(schedule).get("params"), ("schedules", name, "params")):
            out.extend(_check(doc, engine, path, source, scope))
    return out


class _Upstream:
    """The tasks a task needs directly: the only ones whose outputs its templates may read.

    Like `needs.X.outputs` in GitHub Actions: an output a task reads is one it visibly
    waits for, and the worker hands it exactly those outputs.
    """

    __slots__ = ("_needs",)

    def __init__(self, tasks: Mapping[str, Any], name: str) -> None:
        needs = _mapping(tasks.get(name)).get("needs")
        self._needs = frozenset(n for n in needs if isinstance(n, str)) if isinstance(needs, list) else frozenset()

    def __contains__(self, task: object) -> bool:
        return task in self._needs


class _Scope:
    __slots__ = ("params", "tasks", "upstream", "allow_item", "allow_schedule", "task", "in_for_each")

    def __init__(
        self,
        *,
        params: Mapping[str, Any],
        tasks: Mapping[str, Any],
        upstream: _Upstream,
        allow_item: bool,
        allow_schedule: bool,
        task: str | None,
        in_for_each: bool = False,
    ) -> None:
        self.in_for_each = in_for_each
        self.params = params
        self.tasks = tasks
        self.upstream = upstream
        self.allow_item = allow_item
        self.allow_schedule = allow_schedule
        self.task = task

    def roots(self) -> list[str]:
        names = ["params", "run"]
        if self.task is not None:
            names += ["tasks", "attempt"]
        if self.allow_item:
            names += ["item", "index"]
        if self.allow_schedule:
            names.append("schedule")
        return names


def _check(doc: SourceDocument, engine: TemplateEngine, path: JsonPath, source: str, scope: _Scope) -> Iterator[Diagnostic]:
    try:
        info = engine.analyse(source)
    except TemplateSyntaxError as exc:
        message, lineno = _explain_syntax_error(source, exc)
        line, column = _syntax_error_position(doc, path, lineno)
        yield Diagnostic(doc.file, line, column, _fmt(path), f"template syntax error: {message}")
        return
    if info.private_attributes:
        blocked = " and ".join(f"`{a}`" for a in sorted(set(info.private_attributes)))
        yield doc.diagnostic(path, f"templates may not use {blocked} (names starting with `_` are blocked by the sandbox)")
    roots = scope.roots()
    # Diagnostics are sorted when reported, so nothing here needs an order.
    for name in info.free_names:
        if name in roots or name in _FILTERS_AND_GLOBALS:
            continue
        if name in ("item", "index") and scope.in_for_each:
            yield doc.diagnostic(
                path, f"`{name}` is not defined in `for_each` itself: it is each element of the list `for_each` gives, in `input`"
            )
        elif name in ("item", "index") and scope.task is not None:
            yield doc.diagnostic(path, f"`{name}` is only defined in tasks with `for_each`")
        elif name == "schedule":
            yield doc.diagnostic(path, "`schedule` is only defined in schedule params")
        else:
            yield doc.diagnostic(path, f"unknown variable `{name}`{did_you_mean(name, roots)} (templates can use {', '.join(roots)})")
    for ref in info.references:
        if ref.name is None or ref.root not in info.free_names:
            continue
        yield from _check_reference(doc, path, ref.root, ref.name, scope)
    for root, task, field in info.fields:
        if root != "tasks" or root not in info.free_names or scope.task is None or field in TASK_FIELDS:
            continue
        if task in scope.upstream:
            hint = did_you_mean(field, TASK_FIELDS)
            yield doc.diagnostic(path, f"unknown field `{field}` of task `{task}`{hint} (a task has {', '.join(TASK_FIELDS)})")


_BLOCK_TAG = re.compile(r"\{%[-+]?\s*(\w+)([^%]*)")
_BLOCKS = frozenset({"for", "if", "macro", "call", "filter", "with", "block", "autoescape", "set"})


def _explain_syntax_error(source: str, exc: TemplateSyntaxError) -> tuple[str, int]:
    """Jinja's message and line, except for a block left open, which is told at the line that opens it."""
    text = exc.message or "invalid template"
    if text.startswith("Unexpected end of template"):
        unclosed = _unclosed_block(source)
        if unclosed is not None:
            name, lineno = unclosed
            return f"`{{% {name} %}}` is never closed: add `{{% end{name} %}}`", lineno
    if text == "unexpected '}'":
        return "unexpected `}`: an expression opened with `{{` closes with `}}`", exc.lineno or 1
    return text, exc.lineno or 1


def _unclosed_block(source: str) -> tuple[str, int] | None:
    stack: list[tuple[str, int]] = []
    for match in _BLOCK_TAG.finditer(source):
        tag, rest = match.group(1), match.group(2)
        if tag in _BLOCKS and not (tag == "set" and "=" in rest):
            stack.append((tag, source.count("\n", 0, match.start()) + 1))
        elif tag.startswith("end") and stack and stack[-1][0] == tag[3:]:
            stack.pop()
    return stack[-1] if stack else None


def _syntax_error_position(doc: SourceDocument, path: JsonPath, lineno: int) -> tuple[int, int]:
    """The line a template syntax error is on: exact in a `|` block, where lines map one to one; else the value."""
    start = doc.block_starts.get(path)
    if start is not None:
        return start[0] + lineno - 1, start[1]
    return doc.locate(path)


def _check_reference(doc: SourceDocument, path: JsonPath, root: str, name: str, scope: _Scope) -> Iterator[Diagnostic]:
    if root == "params" and name not in scope.params:
        declared = _known(name, list(scope.params), "params") if scope.params else " (this pipeline declares no params)"
        yield doc.diagnostic(path, f"unknown param `{name}`{declared}")
    elif root == "tasks" and scope.task is not None:
        if name not in scope.tasks:
            yield doc.diagnostic(path, f"unknown task `{name}`{_known(name, list(scope.tasks), 'tasks')}")
        elif name == scope.task:
            yield doc.diagnostic(path, f"task `{name}` cannot use its own output")
        elif name not in scope.upstream:
            yield doc.diagnostic(path, f"task `{scope.task}` uses the output of `{name}`, which is not among its needs (add `{name}` to `needs`)")
    elif root == "run" and name not in RUN_FIELDS:
        yield doc.diagnostic(path, f"unknown run field `{name}`{did_you_mean(name, RUN_FIELDS)} (run has {', '.join(RUN_FIELDS)})")
    elif root == "schedule" and scope.allow_schedule and name not in SCHEDULE_FIELDS:
        yield doc.diagnostic(path, f"unknown schedule field `{name}`{did_you_mean(name, SCHEDULE_FIELDS)}")


def _known(name: str, names: list[str], what: str) -> str:
    """A spelling suggestion, or the short list of what exists."""
    hint = did_you_mean(name, names)
    if hint or len(names) > 8:
        return hint
    return f" (the {what} are {', '.join(f'`{n}`' for n in sorted(names))})"


def _fmt(path: JsonPath) -> str:
    from ottermq.spec.diagnostics import format_json_path

    return format_json_path(path)
