"""Plain-text tables and the small formatters the inspection commands share."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; the last column is never padded (it holds free text)."""
    cells = [[str(h) for h in headers], *([_cell(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def when(ms: int | None) -> str:
    """A UTC timestamp to the millisecond, or '-'."""
    if not ms:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def iso(ms: int | None) -> str | None:
    if not ms:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")


def seconds(ms: int | None) -> str:
    """A duration in ms as seconds, '-' when unknown."""
    return "-" if ms is None else f"{ms / 1000:.3f}s"


def offset(ms: int | None, origin: int) -> str:
    """A time relative to ``origin`` (e.g. the run's creation), as `+1.234s`."""
    return "-" if not ms else f"+{(ms - origin) / 1000:.3f}s"


def short(text: str | None, width: int = 100) -> str:
    """One line of at most ``width`` characters."""
    if text is None:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def json_value(text: str | None) -> Any:
    """A stored JSON text as a value (a text that is not JSON stays a string)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def write_json(out: TextIO, value: object, *, lines: bool = False) -> None:
    """Indented JSON for a single answer; one compact line per value for streams (``lines``)."""
    if lines:
        out.write(json.dumps(value, separators=(",", ":")) + "\n")
        out.flush()
    else:
        out.write(json.dumps(value, indent=2) + "\n")


def labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
