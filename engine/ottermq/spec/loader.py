"""Read pipeline YAML into plain JSON values, keeping the line and column of every key and value.

ruamel.yaml composes the node graph (with its C parser when available: a round-trip
load of a large repository is ten times slower), and this module turns nodes into
dicts, lists and scalars itself. That gives every duplicate key, every unknown tag and
every position at once, instead of stopping at the first problem.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import Resolver

from ottermq.spec.diagnostics import Diagnostic, JsonPath, format_json_path

__all__ = ["SourceDocument", "load_paths", "load_text", "discover_files"]

YAML_SUFFIXES = (".yaml", ".yml")
_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One YAML document of one file, as JSON data with source positions."""

    file: str
    base_dir: Path
    index: int
    data: Any
    value_marks: dict[JsonPath, tuple[int, int]] = field(repr=False, compare=False)
    key_marks: dict[JsonPath, tuple[int, int]] = field(repr=False, compare=False)

    def locate(self, path: JsonPath, *, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the key or value at ``path``, or of its nearest ancestor."""
        marks = (self.key_marks, self.value_marks) if key else (self.value_marks, self.key_marks)
        probe = tuple(path)
        while True:
            for table in marks:
                if probe in table:
                    return table[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def diagnostic(self, path: JsonPath, message: str, *, key: bool = False) -> Diagnostic:
        line, column = self.locate(path, key=key)
        return Diagnostic(self.file, line, column, format_json_path(path), message)


def _composer_class() -> type:
    """A composer on the C parser if ruamel's C extension is installed, else the pure-Python one."""
    try:
        from ruamel.yaml.cyaml import CParser
    except ImportError:
        CParser = None  # noqa: N806
    if CParser is not None:

        class CComposer(CParser, Resolver):  # type: ignore[misc, valid-type]
            def __init__(self, stream: io.StringIO) -> None:
                CParser.__init__(self, stream)
                Resolver.__init__(self, loadumper=self)

        return CComposer

    from ruamel.yaml.composer import Composer
    from ruamel.yaml.parser import Parser
    from ruamel.yaml.reader import Reader
    from ruamel.yaml.scanner import Scanner

    class PyComposer(Reader, Scanner, Parser, Composer, Resolver):  # type: ignore[misc]
        def __init__(self, stream: io.StringIO) -> None:
            Reader.__init__(self, stream, loader=self)
            Scanner.__init__(self, loader=self)
            Parser.__init__(self, loader=self)
            Composer.__init__(self, loader=self)
            Resolver.__init__(self, loadumper=self)

    return PyComposer


_COMPOSER = _composer_class()


def discover_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[Diagnostic]]:
    """Expand directories into their YAML files (sorted, hidden entries skipped)."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in YAML_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                problems.append(Diagnostic(str(path), 1, 1, "$", "no pipeline files (*.yaml, *.yml) in this directory"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Diagnostic(str(path), 1, 1, "$", "no such file or directory"))
    unique = list(dict.fromkeys(files))
    return unique, problems


def display_name(path: Path) -> str:
    """The path relative to the working directory when it is below it, as users typed it otherwise."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_paths(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[SourceDocument], list[Diagnostic]]:
    """Load every YAML document under ``paths``; return the documents and every problem found."""
    files, problems = discover_files(paths)
    documents: list[SourceDocument] = []
    for path in files:
        name = display_name(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Diagnostic(name, 1, 1, "$", f"the file is not UTF-8 text (byte {exc.start})"))
            continue
        except OSError as exc:
            problems.append(Diagnostic(name, 1, 1, "$", f"cannot read the file: {exc.strerror}"))
            continue
        docs, errs = load_text(text, name, path.parent)
        documents.extend(docs)
        problems.extend(errs)
    return documents, problems


def load_text(text: str, file: str, base_dir: Path | None = None) -> tuple[list[SourceDocument], list[Diagnostic]]:
    """Load the YAML documents of one file's text."""
    base = base_dir or Path(".")
    try:
        nodes = list(_compose_all(text))
    except MarkedYAMLError as exc:
        return [], [_syntax_diagnostic(exc, text, file)]
    except YAMLError as exc:
        return [], [Diagnostic(file, 1, 1, "$", f"YAML syntax error: {_clean(str(exc))}")]
    documents: list[SourceDocument] = []
    problems: list[Diagnostic] = []
    for index, node in enumerate(nodes):
        builder = _Builder(file)
        data = builder.build(node, ())
        if data is None:
            continue
        documents.append(SourceDocument(file, base, index, data, builder.value_marks, builder.key_marks))
        problems.extend(builder.problems)
    if not documents and not problems:
        problems.append(Diagnostic(file, 1, 1, "$", "the file holds no pipeline (it is empty or only comments)"))
    return documents, problems


def _clean(problem: str) -> str:
    return " ".join(problem.split())


def _syntax_diagnostic(exc: MarkedYAMLError, text: str, file: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = _clean(exc.problem or exc.context or "invalid YAML")
    lines = text.splitlines()
    if mark and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
        message += " (a tab character: YAML indents with spaces only)"
    elif exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        message += f" ({_clean(exc.context)} on line {exc.context_mark.line + 1})"
    return Diagnostic(file, line, col, "$", f"YAML syntax error: {message}")


def _compose_all(text: str) -> Iterator[Node]:
    composer = _COMPOSER(io.StringIO(text))
    try:
        while composer.check_node():
            node = composer.get_node()
            if node is not None:
                yield node
    finally:
        dispose = getattr(composer, "dispose", None)
        if dispose:
            dispose()


class _Builder:
    """Turns one composed document into JSON values and position tables."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.value_marks: dict[JsonPath, tuple[int, int]] = {}
        self.key_marks: dict[JsonPath, tuple[int, int]] = {}
        self.problems: list[Diagnostic] = []
        self._active: set[int] = set()

    def _problem(self, node: Node, path: JsonPath, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Diagnostic(self.file, mark.line + 1, mark.column + 1, format_json_path(path), message))

    def build(self, node: Node, path: JsonPath) -> Any:
        self.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            self._problem(node, path, "an alias refers to its own enclosing node (recursive YAML is not supported)")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self._active.discard(id(node))
        self._problem(node, path, "unsupported YAML node")
        return None

    def _mapping(self, node: MappingNode, path: JsonPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        merged: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self._merge(out, merged, value_node, path)
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(key_node, path, "a key must be a plain string, not a list or mapping")
                continue
            key = str(key_node.value)
            if key in first_seen:
                self._problem(key_node, (*path, key), f"duplicate key `{key}` (first defined on line {first_seen[key]})")
                continue
            first_seen[key] = key_node.start_mark.line + 1
            merged.discard(key)
            self.key_marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _merge(self, out: dict[str, Any], merged: set[str], value_node: Node, path: JsonPath) -> None:
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self._problem(source, path, "`<<` merges only mappings")
                continue
            values = self.build(source, path)
            for key, value in values.items():
                # Explicit keys win over merged ones, as YAML's merge key specifies.
                if key not in out or key in merged:
                    out[key] = value
                    merged.add(key)

    def _scalar(self, node: ScalarNode, path: JsonPath) -> Any:
        tag = node.tag
        value = node.value
        if not isinstance(tag, str):
            tag = getattr(tag, "value", str(tag))
        if tag == _TAG + "str":
            return value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return value.lower() == "true"
        if tag == _TAG + "int":
            return _parse_int(value)
        if tag == _TAG + "float":
            return _parse_float(value)
        if tag in (_TAG + "timestamp", _TAG + "binary"):
            return value
        self._problem(node, path, f"unsupported YAML tag `{tag}`")
        return value


def _parse_int(text: str) -> int:
    t = text.replace("_", "")
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    if t.startswith(("0x", "0X")):
        return sign * int(t[2:], 16)
    if t.startswith(("0o", "0O")):
        return sign * int(t[2:], 8)
    if t.startswith(("0b", "0B")):
        return sign * int(t[2:], 2)
    return sign * int(t, 10)


def _parse_float(text: str) -> float | str:
    t = text.replace("_", "").lower()
    if t in (".inf", "+.inf"):
        return float("inf")
    if t == "-.inf":
        return float("-inf")
    if t == ".nan":
        return float("nan")
    try:
        return float(t)
    except ValueError:
        return text
