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
from ottermq.spec.diagnostics import Diagnostic, sort_diagnostics
from ottermq.spec.loader import SourceDocument, load_paths
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


def validate_paths(paths: Iterable[str | os.PathLike[str]], *, engine: TemplateEngine | None = None) -> ValidationResult:
    """Load, check and (when everything is valid) compile every pipeline under ``paths``."""
    engine = engine or TemplateEngine()
    documents, problems = load_paths(paths)
    for doc in documents:
        problems.extend(schema_diagnostics(doc))
        problems.extend(document_checks(doc))
        problems.extend(template_checks(doc, engine))
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


def compile_paths(paths: Iterable[str | os.PathLike[str]], *, engine: TemplateEngine | None = None) -> tuple[CompiledPipeline, ...]:
    """Like :func:`validate_paths`, but raise SpecError when anything is wrong."""
    result = validate_paths(paths, engine=engine)
    if not result.ok:
        raise SpecError(result.diagnostics)
    return result.pipelines


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
            out.append(doc.diagnostic((), "a pipeline document must be a mapping (name, tasks, ...)"))
            continue
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
                out.append(
                    doc.diagnostic(
                        ("queues", queue),
                        f"queue `{queue}` is also declared by pipeline `{owner}` ({other.file}:{line}) with other settings; "
                        "queues are shared by name, so their settings must match",
                        key=True,
                    )
                )
            else:
                queues.setdefault(queue, (text, doc, str(name)))
    return out
