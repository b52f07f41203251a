"""Semantic checks that JSON Schema cannot express: references, cycles, units, cron, files.

Every check tolerates data that failed the schema (it skips what has the wrong
shape), so one pass reports schema and semantic mistakes together.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ottermq.spec.diagnostics import Diagnostic
from ottermq.spec.loader import SourceDocument, display_name
from ottermq.spec.param_types import type_phrase, value_fits, value_phrase
from ottermq.spec.schedule_checks import schedule_checks
from ottermq.suggest import did_you_mean
from ottermq.units import parse_duration_ms

__all__ = ["document_checks", "find_cycle", "DEFAULT_QUEUE"]

DEFAULT_QUEUE = "default"
_TYPE_OPTIONS = {
    "levels": ("priority",),
    "delay": ("delayed",),
    "members": ("composite",),
    "strategy": ("composite",),
}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def document_checks(doc: SourceDocument) -> list[Diagnostic]:
    data = _mapping(doc.data)
    out: list[Diagnostic] = []
    out.extend(_queue_checks(doc, data))
    out.extend(_task_checks(doc, data))
    out.extend(_cycle_checks(doc, data))
    out.extend(_handler_checks(doc, data))
    out.extend(schedule_checks(doc, data))
    out.extend(_param_checks(doc, data))
    out.extend(_duration_checks(doc, data))
    return out


def queue_names(data: Mapping[str, Any]) -> list[str]:
    return sorted({DEFAULT_QUEUE, *_mapping(data.get("queues"))})


def _queue_checks(doc: SourceDocument, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    queues = _mapping(data.get("queues"))
    for name, queue in queues.items():
        if not isinstance(queue, Mapping):
            continue
        kind = queue.get("type", "fifo")
        if not isinstance(kind, str):
            continue
        for option, kinds in _TYPE_OPTIONS.items():
            if option in queue and kind not in kinds:
                hint = f" (the default; add `type: {kinds[0]}`)" if "type" not in queue else ""
                yield doc.diagnostic(
                    ("queues", name, option),
                    f"`{option}` applies to {' and '.join(kinds)} queues, but `{name}` is a {kind} queue{hint}",
                    key=True,
                )
        if kind == "composite":
            yield from _composite_checks(doc, name, queue, queues)
        elif kind == "priority" and "levels" not in queue:
            pass  # the compiler fills in the default number of levels
        if kind == "composite":
            for option in ("max_size", "on_full", "delay"):
                if option in queue:
                    yield doc.diagnostic(("queues", name, option), f"`{option}` does not apply to a composite queue (set it on its members)", key=True)
        if "on_full" in queue and "max_size" not in queue and kind != "composite":
            yield doc.diagnostic(("queues", name, "on_full"), "`on_full` needs `max_size`", key=True)


def _member_name(member: Any) -> str | None:
    if isinstance(member, str):
        return member
    if isinstance(member, Mapping) and isinstance(member.get("queue"), str):
        return str(member["queue"])
    return None


def _composite_checks(
    doc: SourceDocument, name: str, queue: Mapping[str, Any], queues: Mapping[str, Any]
) -> Iterator[Diagnostic]:
    members = queue.get("members")
    if members is None:
        yield doc.diagnostic(("queues", name), f"composite queue `{name}` needs `members`", key=True)
        return
    if not isinstance(members, list):
        return
    weighted = queue.get("strategy") == "weighted"
    seen: set[str] = set()
    for i, member in enumerate(members):
        member_name = _member_name(member)
        if member_name is None:
            continue
        path = ("queues", name, "members", i)
        if member_name in seen:
            yield doc.diagnostic(path, f"queue `{member_name}` is listed twice")
        seen.add(member_name)
        if member_name not in queues and member_name != DEFAULT_QUEUE:
            hint = did_you_mean(member_name, queue_names({"queues": queues}))
            yield doc.diagnostic(path, f"unknown queue `{member_name}`{hint}")
        if isinstance(member, Mapping) and "weight" in member and not weighted:
            yield doc.diagnostic((*path, "weight"), "`weight` applies only with `strategy: weighted`", key=True)
    cycle = _composite_cycle(name, queues)
    # One report per cycle, at the queue whose name sorts first.
    if cycle and name == min(cycle):
        # At the member that leads back: `all` in `members: [fast, all]`, `tier2` in tier1's members.
        index = next((i for i, m in enumerate(members) if _member_name(m) == cycle[1]), None)
        path = ("queues", name, "members") if index is None else ("queues", name, "members", index)
        yield doc.diagnostic(path, f"composite queue `{name}` contains itself: {' -> '.join(cycle)}")


def _composite_cycle(start: str, queues: Mapping[str, Any]) -> list[str] | None:
    def members_of(q: str) -> list[str]:
        spec = _mapping(queues.get(q))
        if spec.get("type") != "composite" or not isinstance(spec.get("members"), list):
            return []
        return [m for m in (_member_name(x) for x in spec["members"]) if m]

    stack: list[tuple[str, list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        node, trail = stack.pop()
        for member in members_of(node):
            if member == start:
                return [*trail, start]
            if member not in visited:
                visited.add(member)
                stack.append((member, [*trail, member]))
    return None


def _task_checks(doc: SourceDocument, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    tasks = _mapping(data.get("tasks"))
    handlers = _mapping(data.get("handlers"))
    queues = _mapping(data.get("queues"))
    # A collection of the wrong shape is reported by the schema; references into it cannot be checked.
    check_handlers = data.get("handlers") is None or isinstance(data.get("handlers"), Mapping)
    check_queues = data.get("queues") is None or isinstance(data.get("queues"), Mapping)
    defaults = _mapping(data.get("defaults"))
    default_queue = defaults.get("queue")
    if isinstance(default_queue, str) and check_queues:
        yield from _queue_reference(doc, ("defaults", "queue"), default_queue, queues)
    for name, task in tasks.items():
        if not isinstance(task, Mapping):
            continue
        handler = task.get("handler")
        if isinstance(handler, str) and handler not in handlers and check_handlers:
            hint = did_you_mean(handler, handlers) if handlers else " (this pipeline declares no handlers)"
            yield doc.diagnostic(("tasks", name, "handler"), f"unknown handler `{handler}`{hint}")
        queue = task.get("queue")
        if isinstance(queue, str) and check_queues:
            yield from _queue_reference(doc, ("tasks", name, "queue"), queue, queues)
        needs = task.get("needs")
        if isinstance(needs, list):
            for i, need in enumerate(needs):
                if not isinstance(need, str):
                    continue
                if need == name:
                    yield doc.diagnostic(("tasks", name, "needs", i), f"task `{name}` cannot need itself")
                elif need not in tasks:
                    hint = did_you_mean(need, tasks)
                    yield doc.diagnostic(("tasks", name, "needs", i), f"unknown task `{need}`{hint}")
        if check_queues:
            yield from _priority_check(doc, name, task, queues, default_queue)


def _queue_reference(doc: SourceDocument, path: tuple[str, ...], queue: str, queues: Mapping[str, Any]) -> Iterator[Diagnostic]:
    if queue == DEFAULT_QUEUE and queue not in queues:
        return
    if queue not in queues:
        yield doc.diagnostic(path, f"unknown queue `{queue}`{did_you_mean(queue, queue_names({'queues': queues}))}")
    elif _mapping(queues[queue]).get("type") == "composite":
        yield doc.diagnostic(path, f"`{queue}` is a composite queue; a task waits in one of its members, and workers consume the composite")


def _priority_check(
    doc: SourceDocument, name: str, task: Mapping[str, Any], queues: Mapping[str, Any], default_queue: Any
) -> Iterator[Diagnostic]:
    priority = task.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool):
        return
    queue = task.get("queue", default_queue if isinstance(default_queue, str) else DEFAULT_QUEUE)
    spec = _mapping(queues.get(queue))
    kind = spec.get("type", "fifo")
    if kind != "priority":
        yield doc.diagnostic(
            ("tasks", name, "priority"), f"task `{name}` sets a priority, but its queue `{queue}` is a {kind} queue (priorities need `type: priority`)", key=True
        )
        return
    levels = spec.get("levels", 10)
    if isinstance(levels, int) and priority >= levels:
        yield doc.diagnostic(("tasks", name, "priority"), f"priority {priority} is out of range for queue `{queue}`, which has {levels} levels (0..{levels - 1})")


def find_cycle(graph: Mapping[str, list[str]]) -> list[str] | None:
    """A cycle in ``graph`` (node -> the nodes it needs) as `[a, b, c, a]`, or None."""
    white, grey, black = 0, 1, 2
    color = {n: white for n in graph}
    for root in sorted(graph):
        if color[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        trail = [root]
        color[root] = grey
        while stack:
            node, i = stack[-1]
            edges = [e for e in graph.get(node, []) if e in graph]
            if i < len(edges):
                stack[-1] = (node, i + 1)
                nxt = edges[i]
                if color[nxt] == grey:
                    return [*trail[trail.index(nxt):], nxt]
                if color[nxt] == white:
                    color[nxt] = grey
                    stack.append((nxt, 0))
                    trail.append(nxt)
            else:
                color[node] = black
                stack.pop()
                trail.pop()
    return None


def _cycle_checks(doc: SourceDocument, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    tasks = _mapping(data.get("tasks"))
    graph = {
        name: [n for n in _mapping(task).get("needs", []) if isinstance(n, str) and n != name]
        if isinstance(_mapping(task).get("needs"), list)
        else []
        for name, task in tasks.items()
    }
    cycle = find_cycle(graph)
    if cycle:
        # Spelled in the direction work flows: a -> b means b needs a.
        flow = list(reversed(cycle))
        yield doc.diagnostic(("tasks", cycle[0], "needs"), f"the tasks form a cycle: {' -> '.join(flow)}", key=True)


def _handler_checks(doc: SourceDocument, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    for name, handler in _mapping(data.get("handlers")).items():
        if not isinstance(handler, Mapping):
            continue
        module = handler.get("module")
        if isinstance(module, str) and module:
            path = resolve_path(doc.base_dir, module)
            if not path.is_file():
                shown = _shown(path)
                where = f" (looked for {shown})" if shown != os.path.normpath(module) else ""
                yield doc.diagnostic(("handlers", name, "module"), f"module file `{module}` not found{where}")
            elif path.suffix != ".wasm":
                yield doc.diagnostic(("handlers", name, "module"), f"module `{module}` is not a .wasm file")
        dirs = handler.get("dirs")
        if isinstance(dirs, list):
            for i, grant in enumerate(dirs):
                host = _mapping(grant).get("host")
                if isinstance(host, str) and not resolve_path(doc.base_dir, host).is_dir():
                    shown = _shown(resolve_path(doc.base_dir, host))
                    where = f" (looked for {shown})" if shown != os.path.normpath(host) else ""
                    yield doc.diagnostic(("handlers", name, "dirs", i, "host"), f"directory `{host}` not found{where}")


def resolve_path(base: Path, relative: str) -> Path:
    path = Path(relative).expanduser()
    return path if path.is_absolute() else (base / path)


def _shown(path: Path) -> str:
    """A path as the user can type it: below the working directory relative to it, else absolute; no `..`."""
    return display_name(Path(os.path.normpath(path.absolute())))


def _param_checks(doc: SourceDocument, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    for name, param in _mapping(data.get("params")).items():
        if not isinstance(param, Mapping):
            continue
        kind = param.get("type", "string")
        if not isinstance(kind, str):
            continue
        path = ("params", name)
        if param.get("required") is True and "default" in param:
            yield doc.diagnostic((*path, "required"), "a param with a default is never missing: drop `required: true` or the default", key=True)
        if "default" in param and not value_fits(kind, param["default"]):
            yield doc.diagnostic((*path, "default"), _misfit("default", param["default"], kind, name))
        enum = param.get("enum")
        if isinstance(enum, list):
            for i, option in enumerate(enum):
                if not value_fits(kind, option):
                    yield doc.diagnostic((*path, "enum", i), _misfit("value", option, kind, name))
            if "default" in param and param["default"] not in enum:
                allowed = ", ".join(_show(o) for o in enum)
                message = f"default `{_show(param['default'])}` is not one of the allowed values: {allowed}"
                yield doc.diagnostic((*path, "default"), message)
        for option, kinds in (("minimum", ("integer", "number")), ("maximum", ("integer", "number")),
                              ("min_length", ("string", "array")), ("max_length", ("string", "array")),
                              ("pattern", ("string",)), ("items", ("array",))):
            if option in param and kind not in kinds:
                yield doc.diagnostic((*path, option), f"`{option}` does not apply to a param of type {kind}", key=True)
        pattern = param.get("pattern")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                yield doc.diagnostic((*path, "pattern"), f"invalid regular expression: {exc}")


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _misfit(what: str, value: Any, kind: str, param: str) -> str:
    quoted = isinstance(value, str) and value_fits(kind, _scalar(value))
    hint = " (remove the quotes)" if quoted else ""
    return f"{what} `{_show(value)}` is {value_phrase(value)}, but param `{param}` is {type_phrase(kind)}{hint}"


def _scalar(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _duration_checks(doc: SourceDocument, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    """Durations that parse but make no sense: zero timeouts, initial backoff above its max."""
    positive = []
    for name, task in _mapping(data.get("tasks")).items():
        positive.append((("tasks", name, "timeout"), _mapping(task).get("timeout")))
        retry = _mapping(_mapping(task).get("retry"))
        yield from _backoff_check(doc, ("tasks", name, "retry"), retry)
    for name, handler in _mapping(data.get("handlers")).items():
        positive.append((("handlers", name, "timeout"), _mapping(handler).get("timeout")))
    for name, schedule in _mapping(data.get("schedules")).items():
        positive.append((("schedules", name, "interval"), _mapping(schedule).get("interval")))
    positive.append((("defaults", "timeout"), _mapping(data.get("defaults")).get("timeout")))
    yield from _backoff_check(doc, ("defaults", "retry"), _mapping(_mapping(data.get("defaults")).get("retry")))
    for path, value in positive:
        if isinstance(value, str) and _ms(value) == 0:
            yield doc.diagnostic(path, "must be longer than 0")


def _backoff_check(doc: SourceDocument, path: tuple[str, ...], retry: Mapping[str, Any]) -> Iterator[Diagnostic]:
    initial, maximum = _ms(retry.get("initial")), _ms(retry.get("max"))
    if initial is not None and maximum is not None and initial > maximum:
        yield doc.diagnostic((*path, "initial"), f"initial backoff {retry['initial']} is longer than max {retry['max']}")


def _ms(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_duration_ms(value)
    except ValueError:
        return None
