"""Validate and compile a repository of pipeline files: every file, every mistake, one answer.

Per document: schema, semantic and template checks. Across documents: duplicate
pipeline names and queues declared twice with different settings. Only when no
file has a mistake are the pipelines compiled.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ottermq.compiler import compile_pipeline
from ottermq.errors import SpecError
from ottermq.plan import ExecutionPlan, canonical_json
from ottermq.spec.checks import document_checks, resolve_path
from ottermq.spec.diagnostics import Diagnostic, format_json_path, sort_diagnostics
from ottermq.spec.loader import SourceDocument, load_paths
from ottermq.spec.parallel import check_documents
from ottermq.spec.template_checks import template_checks
from ottermq.spec.validate import schema_diagnostics
from ottermq.templating import TemplateEngine

__all__ = ["CompiledPipeline", "ValidationResult", "validate_paths", "compile_paths"]


@dataclass(frozen=True, slots=True)
class CompiledPipeline:
    document: SourceDocument
    plan: ExecutionPlan
    # Absolute path of each handler's module, by handler name (for apply and the worker).
    module_paths: Mapping[str, Path]


@dataclass(frozen=True, slots=True)
class ValidationResult:
    documents: tuple[SourceDocument, ...]
    diagnostics: tuple[Diagnostic, ...]
    pipelines: tuple[CompiledPipeline, ...]

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def validate_paths(
    paths: Iterable[str | os.PathLike[str]], *, engine: TemplateEngine | None = None, processes: int | None = None
) -> ValidationResult:
    """Load, check and (when everything is valid) compile every pipeline under ``paths``.

    ``processes`` sets how many processes check the documents (by default more than one
    only for large repositories; see parallel.py). The result is the same whatever it is.
    """
    engine = engine or TemplateEngine()
    documents, problems = load_paths(paths)
    problems.extend(check_documents(documents, document_problems, engine, processes=processes))
    problems.extend(_cross_document_checks(documents))
    diagnostics = tuple(sort_diagnostics(problems))
    if diagnostics:
        return ValidationResult(tuple(documents), diagnostics, ())
    digests = _ModuleDigests()
    compiled = []
    for doc in documents:
        modules = {
            name: resolve_path(doc.base_dir, spec["module"]).resolve() for name, spec in doc.data.get("handlers", {}).items()
        }
        plan = compile_pipeline(
            doc.data, {name: digests.of(path) for name, path in modules.items()}, engine, source=doc.file
        )
        compiled.append(CompiledPipeline(doc, plan, modules))
    return ValidationResult(tuple(documents), (), tuple(compiled))


def document_problems(doc: SourceDocument, engine: TemplateEngine) -> list[Diagnostic]:
    """The mistakes of one document by itself: schema, semantic and template checks."""
    return [*schema_diagnostics(doc), *_without_broken(doc, [*document_checks(doc), *template_checks(doc, engine)])]


def compile_paths(paths: Iterable[str | os.PathLike[str]], *, engine: TemplateEngine | None = None) -> tuple[CompiledPipeline, ...]:
    """Like :func:`validate_paths`, but raise SpecError when anything is wrong."""
    result = validate_paths(paths, engine=engine)
    if not result.ok:
        raise SpecError(result.diagnostics)
    return result.pipelines


def _without_broken(doc: SourceDocument, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Drop what the checks say about values the loader already reported as unusable."""
    if not doc.broken:
        return diagnostics
    prefixes = [format_json_path(path) for path in doc.broken]

    def about_broken(path: str) -> bool:
        return any(path == p or path.startswith((p + ".", p + "[")) or p == "$" for p in prefixes)

    return [d for d in diagnostics if not about_broken(d.path)]


class _ModuleDigests:
    """sha256 of each module file, read once even when several handlers share it."""

    def __init__(self) -> None:
        self._cache: dict[Path, str] = {}

    def of(self, path: Path) -> str:
        if path not in self._cache:
            self._cache[path] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        return self._cache[path]


def _cross_document_checks(documents: list[SourceDocument]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    names: dict[str, SourceDocument] = {}
    queues: dict[str, tuple[str, SourceDocument, str]] = {}
    for doc in documents:
        data: Any = doc.data
        if not isinstance(data, dict):
            continue  # the schema reports it
        name = data.get("name")
        if isinstance(name, str):
            first = names.get(name)
            if first is not None:
                line, _ = first.locate(("name",))
                out.append(doc.diagnostic(("name",), f"pipeline `{name}` is already defined in {first.file}:{line}"))
            else:
                names[name] = doc
        declared = data.get("queues")
        for queue, spec in declared.items() if isinstance(declared, dict) else ():
            text = canonical_json(spec)
            if queue in queues and queues[queue][0] != text:
                _, other, owner = queues[queue]
                line, _ = other.locate(("queues", queue), key=True)
                differences = _differences(other.data["queues"][queue], spec)
                out.append(
                    doc.diagnostic(
                        ("queues", queue),
                        f"queue `{queue}` is also declared by pipeline `{owner}` ({other.file}:{line}) with other settings"
                        f"{differences}; queues are shared by name, so their settings must match",
                        key=True,
                    )
                )
            else:
                queues.setdefault(queue, (text, doc, str(name)))
    return out


def _differences(first: Any, second: Any) -> str:
    """` (concurrency: 8 there, 2 here)` for two queue declarations that differ key by key."""
    if not isinstance(first, dict) or not isinstance(second, dict):
        return ""
    keys = sorted(k for k in {*first, *second} if canonical_json(first.get(k)) != canonical_json(second.get(k)))
    parts = [f"{k}: {_setting(first, k)} there, {_setting(second, k)} here" for k in keys[:3]]
    more = f", and {len(keys) - 3} more" if len(keys) > 3 else ""
    return f" ({'; '.join(parts)}{more})" if parts else ""


def _setting(spec: dict[str, Any], key: str) -> str:
    if key not in spec:
        return "not set"
    return spec[key] if isinstance(spec[key], str) else canonical_json(spec[key])
