"""Human units in pipeline files and settings: durations (`30s`, `1h30m`) and sizes (`64Mi`)."""

from __future__ import annotations

import re

__all__ = ["parse_duration_ms", "parse_size_bytes", "format_duration_ms"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|Ki|Mi|Gi|KiB|MiB|GiB)?")
_SIZE_UNITS = {
    None: 1, "B": 1,
    "KB": 1000, "MB": 1000**2, "GB": 1000**3,
    "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3,
    "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3,
}


def parse_duration_ms(text: str) -> int:
    """Parse `500ms`, `30s`, `5m`, `1h30m`, `7d` into milliseconds.

    Raises ValueError with a message fit for a diagnostic.
    """
    s = text.strip()
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(s):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS_MS[match.group(2)]
        pos = match.end()
    if not s or pos != len(s):
        raise ValueError(f"`{text}` is not a duration (use a number and a unit: 500ms, 30s, 5m, 2h, 1d, or 1h30m)")
    return int(round(total))


def parse_size_bytes(text: str | int) -> int:
    """Parse `64Mi`, `1MB`, `512Ki` or a plain number of bytes."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = _SIZE.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"`{text}` is not a size (use bytes or a unit: 512Ki, 64Mi, 1Gi, 10MB)")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


def format_duration_ms(ms: int) -> str:
    """The shortest exact human form of a duration: 90000 -> `1m30s`."""
    if ms == 0:
        return "0s"
    out = []
    rest = ms
    for unit in ("d", "h", "m", "s", "ms"):
        size = _DURATION_UNITS_MS[unit]
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out)
