"""Read pipeline YAML into plain JSON values, keeping the line and column of every key and value.

The values are built from the parser's events (see yaml_events), not through a node
graph or a constructor. That gives every duplicate key, every unknown tag and every
position at once, instead of stopping at the first problem.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ottermq.spec.diagnostics import Diagnostic, JsonPath, format_json_path
from ottermq.spec.yaml_errors import syntax_diagnostic
from ottermq.spec.yaml_events import MAX_ALIAS_VALUES, MAX_DEPTH, PARSER, build_documents

__all__ = ["SourceDocument", "load_paths", "load_file", "load_text", "discover_files", "MAX_ALIAS_VALUES", "MAX_DEPTH"]

YAML_SUFFIXES = (".yaml", ".yml")
# The YAML parser class: ruamel's C parser when its extension is installed.
_COMPOSER = PARSER


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One YAML document of one file, as JSON data with source positions."""

    file: str
    base_dir: Path
    index: int
    data: Any
    value_marks: dict[JsonPath, tuple[int, int]] = field(repr=False, compare=False)
    key_marks: dict[JsonPath, tuple[int, int]] = field(repr=False, compare=False)
    # Literal (`|`) block scalars: line and column of their first line of text, for
    # locating a template error on the line it is on.
    block_starts: dict[JsonPath, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)
    # Values the loader already reported as unusable (an unknown tag, an unquoted template):
    # schema errors about them would only repeat the same mistake.
    broken: frozenset[JsonPath] = field(default=frozenset(), repr=False, compare=False)

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
        docs, errs = load_file(path)
        documents.extend(docs)
        problems.extend(errs)
    return documents, problems


def load_file(path: Path) -> tuple[list[SourceDocument], list[Diagnostic]]:
    """The YAML documents of one file, named as the user sees it."""
    name = display_name(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [_not_utf8(name, exc)]
    except OSError as exc:
        return [], [Diagnostic(name, 1, 1, "$", f"cannot read the file: {exc.strerror}")]
    return load_text(text, name, path.parent)


def load_text(text: str, file: str, base_dir: Path | None = None) -> tuple[list[SourceDocument], list[Diagnostic]]:
    """Load the YAML documents of one file's text."""
    base = base_dir or Path(".")
    try:
        built = build_documents(text, file)
    except MarkedYAMLError as exc:
        return [], [syntax_diagnostic(exc, text, file)]
    except YAMLError as exc:
        return [], [_reader_diagnostic(exc, text, file)]
    if isinstance(built, Diagnostic):
        return [], [built]
    documents: list[SourceDocument] = []
    problems: list[Diagnostic] = []
    for doc in built:
        problems.extend(doc.problems)
        if doc.data is None:
            continue
        documents.append(
            SourceDocument(
                file, base, doc.index, doc.data, doc.value_marks, doc.key_marks, doc.block_starts, frozenset(doc.broken)
            )
        )
    if not documents and not problems:
        problems.append(Diagnostic(file, 1, 1, "$", "the file holds no pipeline (it is empty or only comments)"))
    return documents, problems


def _reader_diagnostic(exc: YAMLError, text: str, file: str) -> Diagnostic:
    """Errors of the YAML reader (control characters) carry a character position, not a mark."""
    message = _clean(str(exc))
    found = re.search(r"#x([0-9a-fA-F]+).*position (\d+)", message)
    if not found:
        return Diagnostic(file, 1, 1, "$", f"YAML syntax error: {message}")
    position = min(int(found.group(2)), len(text))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = int(found.group(1), 16)
    message = f"YAML syntax error: the control character U+{code:04X} is not allowed in YAML text (remove it)"
    return Diagnostic(file, line, column, "$", message)


def _clean(problem: str) -> str:
    return " ".join(problem.split())


def _not_utf8(file: str, exc: UnicodeDecodeError) -> Diagnostic:
    raw = bytes(exc.object)
    line = raw.count(b"\n", 0, exc.start) + 1
    column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
    byte = raw[exc.start]
    return Diagnostic(
        file, line, column, "$", f"the file is not UTF-8 text: byte 0x{byte:02x} cannot be decoded (save the file as UTF-8)"
    )
