"""YAML parser events to JSON values, with the line and column of every key and value.

The parser (ruamel.yaml's C parser when installed) produces events one at a time; this
module builds the values from them with an explicit stack. That is twice as fast as
having ruamel compose a node graph first, and nothing recurses per nesting level, so
no input can exhaust a stack (ruamel's C composer crashes on some ten thousand levels).

Aliases replay the events recorded for their anchor; the values they add are counted,
so a "billion laughs" document is reported instead of expanding without end.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import ScalarNode

from ottermq.errors import InternalError
from ottermq.spec.diagnostics import Diagnostic, JsonPath, format_json_path
from ottermq.spec.yaml_parser import PARSER, parse_float, parse_int

__all__ = ["BuiltDocument", "build_documents", "PARSER", "MAX_ALIAS_VALUES", "MAX_DEPTH"]

# Values a document may gain through aliases; far above any real reuse of shared settings.
MAX_ALIAS_VALUES = 100_000
# Nesting of mappings and lists; real pipelines stay under 15, and the checks after
# loading walk values recursively.
MAX_DEPTH = 100
_TAG = "tag:yaml.org,2002:"
_MERGE = object()  # the pending key of a mapping after `<<`


@dataclass(slots=True)
class BuiltDocument:
    """One document as built; the loader turns it into a SourceDocument."""

    index: int
    data: Any
    value_marks: dict[JsonPath, tuple[int, int]]
    key_marks: dict[JsonPath, tuple[int, int]]
    block_starts: dict[JsonPath, tuple[int, int]]
    broken: set[JsonPath]
    problems: list[Diagnostic]


@dataclass(slots=True)
class _Frame:
    """An open mapping or list. Mutable on purpose: it fills as events arrive."""

    container: Any
    path: JsonPath
    is_map: bool
    start: Any  # the start mark
    anchor: str | None
    flow: bool = False
    discard: bool = False  # read and dropped: a duplicate key's value, a key that is not a string
    is_key: bool = False  # a dropped frame that was a mapping's key (its value is dropped next)
    merge_items: bool = False  # the list after `<<`: its items merge into the mapping above
    expect_value: bool = False
    key: Any = None  # the key whose value comes next, or `_MERGE`
    drop_value: bool = False
    first_seen: dict[str, int] = field(default_factory=dict)
    merged: set[str] = field(default_factory=set)
    entries: int = 0
    # `{{ params.x }}` without quotes reads as a flow mapping whose one key is a flow mapping
    # with an empty value. Its start mark, until the pattern is confirmed or refuted.
    template_key: Any = None
    template_ready: bool = False


class _Fatal(InternalError):  # noqa: N818 - a signal caught in build_documents, never raised further
    """A mistake that makes the whole file unreadable, as a syntax error does."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def build_documents(text: str, file: str) -> list[BuiltDocument] | Diagnostic:
    """Every document of ``text``; or the one diagnostic that makes the file unreadable.

    Raises ruamel's YAMLError for syntax errors (the caller words and locates them).
    """
    parser = PARSER(io.StringIO(text))
    builder = _Builder(parser, text, file)
    try:
        return builder.run()
    except _Fatal as fatal:
        return fatal.diagnostic
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose:
            dispose()


class _Builder:
    def __init__(self, parser: Any, text: str, file: str) -> None:
        self.parser = parser
        self.text = text
        self.file = file
        self._lines: list[str] | None = None
        self._tags: dict[tuple[str, bool], str] = {}

    # --- documents ------------------------------------------------------------------------

    def run(self) -> list[BuiltDocument]:
        documents: list[BuiltDocument] = []
        index = -1
        while self.parser.check_event():
            event = self.parser.get_event()
            if isinstance(event, DocumentStartEvent):
                index += 1
                documents.append(self._document(index))
        return documents

    def _document(self, index: int) -> BuiltDocument:
        self.doc = BuiltDocument(index, None, {}, {}, {}, set(), [])
        self.stack: list[_Frame] = []
        self.anchors: dict[str, list[Event]] = {}
        self.anchor_lines: dict[str, int] = {}
        self.recording: list[tuple[str, list[Event], int]] = []  # anchor, its events, stack depth at its start
        self.alias_values = 0
        self.replaying = 0
        while True:
            event = self.parser.get_event()
            if isinstance(event, DocumentEndEvent):
                return self.doc
            for _, events, _ in self.recording:
                events.append(event)
            self._event(event)

    # --- events ---------------------------------------------------------------------------

    def _event(self, event: Event) -> None:
        top = self.stack[-1] if self.stack else None
        if isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            self._end(event)
            return
        if not isinstance(event, AliasEvent):
            self._track_anchor(event)
        if top is not None and top.discard:
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                self.stack.append(_Frame(None, top.path, False, event.start_mark, event.anchor, discard=True))
            return
        if top is not None and top.template_key is not None and not (top.expect_value or isinstance(event, MappingEndEvent)):
            if top.template_ready:
                self._refute_template(top)  # a second entry: not a template after all
        if top is not None and top.is_map and not top.expect_value:
            self._key(event, top)
        elif top is not None and top.is_map and top.drop_value:
            self._dropped_value(event, top)
        elif isinstance(event, ScalarEvent):
            self._scalar_event(event, top)
        elif isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            self._start(event, top)
        elif isinstance(event, AliasEvent):
            self._alias(event, top)

    def _key(self, event: Event, top: _Frame) -> None:
        if isinstance(event, AliasEvent):
            self._alias(event, top)
            return
        top.expect_value = True
        if not isinstance(event, ScalarEvent):
            # A list or mapping where a key belongs.
            flow_map = isinstance(event, MappingStartEvent) and event.flow_style
            if flow_map and top.flow and top.entries == 0 and top.template_key is None:
                top.template_key = event.start_mark
            else:
                self._problem(event.start_mark, top.path, "a key must be a plain string, not a list or mapping")
            top.key, top.drop_value = None, True
            self.stack.append(_Frame(None, top.path, False, event.start_mark, event.anchor, discard=True, is_key=True))
            return
        value = str(event.value)
        if value == "<<" and event.implicit[0] and event.tag is None:
            top.key, top.drop_value = _MERGE, False
            return
        if value in top.first_seen:
            message = f"duplicate key `{value}` (first defined on line {top.first_seen[value]})"
            self._problem(event.start_mark, (*top.path, value), message)
            top.key, top.drop_value = None, True
            return
        top.first_seen[value] = event.start_mark.line + 1
        top.merged.discard(value)
        top.key, top.drop_value = value, False
        self.doc.key_marks[(*top.path, value)] = _mark(event.start_mark)

    def _dropped_value(self, event: Event, top: _Frame) -> None:
        if top.template_key is not None and not top.template_ready:
            # The value of `{{ x }}`'s inner mapping, if it is one: YAML gives it an empty plain scalar.
            if isinstance(event, ScalarEvent) and event.value == "" and event.implicit[0] and event.tag is None:
                top.template_ready = True
                top.expect_value = False
                return
            self._refute_template(top)
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            self.stack.append(_Frame(None, top.path, False, event.start_mark, event.anchor, discard=True))
            return
        top.expect_value, top.drop_value, top.key = False, False, None
        top.entries += 1

    def _scalar_event(self, event: ScalarEvent, top: _Frame | None) -> None:
        path = self._child_path(top)
        self._count_alias_value(event, path)
        if not _merging(top):
            self.doc.value_marks[path] = _mark(event.start_mark)
        if event.style == "|":
            self._block_start(event, path)
        self._attach(top, self._scalar(event, path), event.start_mark)

    def _start(self, event: MappingStartEvent | SequenceStartEvent, top: _Frame | None) -> None:
        path = self._child_path(top)
        self._count_alias_value(event, path)
        if len(self.stack) >= MAX_DEPTH:
            # The path would be a hundred levels long: the top of it says where.
            self._abandon(event.start_mark, path[:2], f"values are nested more than {MAX_DEPTH} levels deep")
        if not _merging(top):
            self.doc.value_marks[path] = _mark(event.start_mark)
        is_map = isinstance(event, MappingStartEvent)
        frame = _Frame({} if is_map else [], path, is_map, event.start_mark, event.anchor, flow=bool(event.flow_style))
        frame.merge_items = not is_map and top is not None and top.is_map and top.key is _MERGE
        self.stack.append(frame)

    def _end(self, event: Event) -> None:
        frame = self.stack.pop()
        self._finish_anchor(frame)
        parent = self.stack[-1] if self.stack else None
        if frame.discard:
            if parent is not None and not parent.discard and parent.is_map and not frame.is_key:
                parent.expect_value, parent.drop_value, parent.key = False, False, None
                parent.entries += 1
            return
        value = frame.container
        if frame.template_key is not None:
            if frame.template_ready and frame.entries == 0:
                value = self._unquoted_template(frame, event)
            else:
                self._refute_template(frame)
        self._attach(parent, value, frame.start)

    def _alias(self, event: AliasEvent, top: _Frame | None) -> None:
        name = event.anchor
        if any(anchor == name for anchor, _, _ in self.recording):
            path = self._child_path(top) if top is None or top.expect_value or not top.is_map else top.path
            self._problem(event.start_mark, path, "an alias refers to its own enclosing node (recursive YAML is not supported)")
            if top is not None and top.is_map and not top.expect_value:
                top.expect_value, top.key, top.drop_value = True, None, True
            else:
                self._attach(top, None, event.start_mark)
            return
        events = self.anchors.get(name)
        if events is None:
            mark = event.start_mark
            message = f"YAML syntax error: the alias `*{name}` refers to no anchor: define `&{name}` on a value above it"
            raise _Fatal(Diagnostic(self.file, mark.line + 1, mark.column + 1, "$", message))
        if self.replaying >= MAX_DEPTH:
            self._abandon(event.start_mark, self._child_path(top), f"aliases are nested more than {MAX_DEPTH} levels deep")
        self.replaying += 1
        try:
            for replayed in events:
                self._event(replayed)
        finally:
            self.replaying -= 1

    # --- values ---------------------------------------------------------------------------

    def _attach(self, parent: _Frame | None, value: Any, start: Any) -> None:
        if parent is None:
            self.doc.data = value
            return
        if not parent.is_map:
            parent.container.append((value, start) if parent.merge_items else value)
            return
        key = parent.key
        parent.expect_value, parent.key = False, None
        parent.entries += 1
        if key is _MERGE:
            self._merge(parent, value, start)
        else:
            parent.container[key] = value

    def _merge(self, frame: _Frame, value: Any, start: Any) -> None:
        sources = value if isinstance(value, list) else [(value, start)]
        for source, mark in sources:
            if not isinstance(source, dict):
                self._problem(mark, frame.path, "`<<` merges only mappings")
                continue
            for key, merged_value in source.items():
                # Explicit keys win over merged ones, as YAML's merge key specifies.
                if key not in frame.container or key in frame.merged:
                    frame.container[key] = merged_value
                    frame.merged.add(key)

    def _child_path(self, top: _Frame | None) -> JsonPath:
        if top is None:
            return ()
        if top.is_map:
            # A merged mapping is read at the path of the mapping it merges into.
            return top.path if top.key is _MERGE else (*top.path, top.key)
        if top.merge_items:
            return top.path
        return (*top.path, len(top.container))

    def _scalar(self, event: ScalarEvent, path: JsonPath) -> Any:
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            key = (value, bool(event.implicit[0]))
            tag = self._tags.get(key)
            if tag is None:
                resolved = self.parser.resolve(ScalarNode, value, event.implicit)
                tag = self._tags[key] = str(getattr(resolved, "value", resolved))
        if tag == _TAG + "str":
            return value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if tag == _TAG + "int":
            try:
                return parse_int(value)
            except ValueError:
                return self._unusable(event, path, f"`{value}` is not an integer")
        if tag == _TAG + "float":
            number = parse_float(value)
            if isinstance(number, float) and not math.isfinite(number):
                # Plans are JSON, which has no infinity or NaN.
                return self._unusable(event, path, f"`{value}` is not a finite number (write a number such as 1000)")
            return number
        if tag in (_TAG + "timestamp", _TAG + "binary"):
            return value
        if tag == _TAG + "bool":
            return self._unusable(event, path, f"`{value}` is not true or false")
        return self._unusable(event, path, f"unsupported YAML tag `{tag}` (OtterMQ reads plain YAML: write the value itself)")

    def _unusable(self, event: ScalarEvent, path: JsonPath, message: str) -> str:
        self._problem(event.start_mark, path, message)
        self.doc.broken.add(path)
        return str(event.value)

    def _unquoted_template(self, frame: _Frame, end: Event) -> str:
        source = " ".join(self.text[frame.start.index : end.end_mark.index].split())
        message = f"a template must be quoted: YAML reads `{source}` as a mapping; write `\"{source}\"`"
        self._problem(frame.start, frame.path, message)
        self.doc.broken.add(frame.path)
        return source

    def _refute_template(self, frame: _Frame) -> None:
        mark, frame.template_key = frame.template_key, None
        frame.template_ready = False
        self._problem(mark, frame.path, "a key must be a plain string, not a list or mapping")

    def _block_start(self, event: ScalarEvent, path: JsonPath) -> None:
        if self._lines is None:
            self._lines = self.text.splitlines()
        lines = self._lines
        first = event.start_mark.line + 1
        for i in range(first, min(len(lines), event.end_mark.line + 1)):
            if lines[i].strip():
                self.doc.block_starts[path] = (first + 1, len(lines[i]) - len(lines[i].lstrip(" ")) + 1)
                return

    # --- anchors --------------------------------------------------------------------------

    def _track_anchor(self, event: Any) -> None:
        name = event.anchor
        if name is None or self.replaying:
            return
        if name in self.anchor_lines:
            mark = event.start_mark
            message = f"YAML syntax error: the anchor `&{name}` is defined twice (first on line {self.anchor_lines[name]})"
            raise _Fatal(Diagnostic(self.file, mark.line + 1, mark.column + 1, "$", message))
        self.anchor_lines[name] = event.start_mark.line + 1
        if isinstance(event, ScalarEvent):
            self.anchors[name] = [event]
        else:
            self.recording.append((name, [event], len(self.stack)))

    def _finish_anchor(self, frame: _Frame) -> None:
        if frame.anchor is None or self.replaying or not self.recording:
            return
        name, events, depth = self.recording[-1]
        if name == frame.anchor and depth == len(self.stack):
            self.recording.pop()
            self.anchors[name] = events

    def _count_alias_value(self, event: Event, path: JsonPath) -> None:
        if not self.replaying:
            return
        self.alias_values += 1
        if self.alias_values > MAX_ALIAS_VALUES:
            message = f"aliases expand this document to more than {MAX_ALIAS_VALUES} values; write the values out"
            self._abandon(event.start_mark, path, message)

    # --- problems -------------------------------------------------------------------------

    def _problem(self, mark: Any, path: JsonPath, message: str) -> None:
        self.doc.problems.append(Diagnostic(self.file, mark.line + 1, mark.column + 1, format_json_path(path), message))

    def _abandon(self, mark: Any, path: JsonPath, message: str) -> None:
        # Stop reading the file: the parser's work on what follows can grow with the square of it.
        raise _Fatal(Diagnostic(self.file, mark.line + 1, mark.column + 1, format_json_path(path), message))


def _merging(top: _Frame | None) -> bool:
    """Whether a value is read for `<<`: it has no place of its own in the position tables."""
    return top is not None and (top.merge_items or (top.is_map and top.key is _MERGE))


def _mark(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)
