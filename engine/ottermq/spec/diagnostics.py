"""Located diagnostics and their two presentations (text lines, JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

__all__ = ["Diagnostic", "JsonPath", "format_json_path", "render_text", "render_json", "sort_diagnostics"]

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One mistake in one file: where it is, and what is wrong."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"


def format_json_path(path: JsonPath) -> str:
    """`tasks.charge.retry.max_attempts`, `tasks.a.needs[1]`; the document root is `$`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.replace("_", "a").replace("-", "a").isalnum() and part[:1] not in "0123456789":
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "$"


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics))


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    files = len({d.file for d in diagnostics})
    n = len(diagnostics)
    return f"{n} error{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}"


def render_text(diagnostics: Sequence[Diagnostic]) -> str:
    lines = [str(d) for d in diagnostics]
    lines.append(summary(diagnostics))
    return "\n".join(lines) + "\n"


def render_json(diagnostics: Sequence[Diagnostic], **extra: object) -> str:
    payload = {"ok": not diagnostics, "error_count": len(diagnostics), "errors": [asdict(d) for d in diagnostics]}
    payload.update(extra)
    return json.dumps(payload, indent=2) + "\n"
