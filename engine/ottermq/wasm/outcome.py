"""Turn what a guest did (a value, a trap, an exit, an error payload) into an Outcome.

Every decision about failure kinds, permanence and messages lives here, so the
three shapes report the same misbehaviour the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import wasmtime

from ottermq.wasm.model import FailureKind

__all__ = [
    "PERMANENT_EXIT_CODE",
    "memory_near_limit",
    "Outcome",
    "from_error_payload",
    "from_exception",
    "from_exit",
    "from_output",
    "failure",
]

# A WASI command that exits with this code has failed for good: do not retry.
PERMANENT_EXIT_CODE = 100
_MAX_MESSAGE = 2000
_BACKTRACE_FRAMES = 20


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    output: str | None = None
    error: str | None = None
    kind: FailureKind | None = None
    permanent: bool = False


def failure(kind: FailureKind, message: str, *, permanent: bool = False) -> Outcome:
    return Outcome(ok=False, error=_clip(message), kind=kind, permanent=permanent)


def from_output(data: bytes, max_bytes: int) -> Outcome:
    """A successful return: it must be UTF-8 JSON text within the size limit."""
    if len(data) > max_bytes:
        return failure(FailureKind.OUTPUT_TOO_LARGE, f"output of {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return failure(FailureKind.INVALID_OUTPUT, f"output is not UTF-8 text: {exc.reason} at byte {exc.start}")
    return from_text_output(text, max_bytes)


def from_text_output(text: str, max_bytes: int) -> Outcome:
    if len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes:
        return failure(FailureKind.OUTPUT_TOO_LARGE, f"output exceeds the limit of {max_bytes} bytes")
    try:
        json.loads(text)
    except ValueError as exc:
        preview = text[:80] + ("..." if len(text) > 80 else "")
        return failure(FailureKind.INVALID_OUTPUT, f"output is not valid JSON ({exc}): {preview!r}")
    return Outcome(ok=True, output=text)


def from_error_payload(text: str) -> Outcome:
    """An ``err`` result: permanent when it is a JSON object with ``"permanent": true``."""
    message, permanent = text, False
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, dict):
            permanent = value.get("permanent") is True
            if isinstance(value.get("message"), str):
                message = value["message"]
    return failure(FailureKind.ERROR, message or "handler returned an empty error", permanent=permanent)


def memory_near_limit(size: int | None, limit: int) -> bool:
    """Whether a failed call is put down to its memory limit.

    wasmtime's C API tells only the guest that a memory.grow was refused (it
    returns -1), so the host infers it: the call failed with its memory past half
    the limit. A refused request that is no larger than what the guest already
    holds (a growth loop, a doubling buffer) always leaves the memory there; one
    single allocation larger than that fails lower down, and the guest reports it
    in its own words (a trap, an exit code, an error), which the call returns.
    """
    return size is not None and size * 2 > limit


def from_exit(code: int, logs: str, *, memory_size: int | None = None, memory_limit: int = 0) -> Outcome:
    """A WASI command that exited with a non-zero code.

    The message is the last non-empty line of stderr, as the handler wrote it (the
    contract handler authors build to); the tail of stderr travels with the result.
    """
    last = _last_line(logs)
    message = last or f"exited with code {code} (nothing on stderr)"
    permanent = code == PERMANENT_EXIT_CODE
    if memory_near_limit(memory_size, memory_limit):
        note = _memory_note(memory_size or 0, memory_limit)
        return failure(FailureKind.OUT_OF_MEMORY, f"{note}; exited with code {code}: {message}", permanent=permanent)
    return failure(FailureKind.EXIT, message, permanent=permanent)


def from_exception(
    exc: Exception, *, timed_out: bool, memory_limit: int, memory_size: int | None = None, logs: str = ""
) -> Outcome:
    """A trap, an exit or a wasmtime error raised while instantiating or calling the guest."""
    if isinstance(exc, wasmtime.ExitTrap) and not timed_out:
        if exc.code == 0:
            return failure(FailureKind.EXIT, "exited with code 0 before returning a result")
        return from_exit(exc.code, logs, memory_size=memory_size, memory_limit=memory_limit)
    cause, backtrace = _split_wasmtime_message(str(exc))
    code = exc.trap_code if isinstance(exc, wasmtime.Trap) else None
    trace = f"\nwasm backtrace:\n{backtrace}" if backtrace else ""
    if timed_out or code == wasmtime.TrapCode.INTERRUPT or cause.endswith("wasm trap: interrupt"):
        return failure(FailureKind.TIMEOUT, f"timed out: the call ran past its deadline{trace}")
    if code == wasmtime.TrapCode.OUT_OF_FUEL or "all fuel consumed" in cause:
        return failure(FailureKind.OUT_OF_FUEL, f"out of fuel: the call used up its instruction budget{trace}")
    if _is_memory_limit_error(cause):
        return failure(FailureKind.OUT_OF_MEMORY, f"out of memory: {cause} (the limit is {_mib(memory_limit)}){trace}")
    if memory_near_limit(memory_size, memory_limit):
        note = _memory_note(memory_size or 0, memory_limit)
        return failure(FailureKind.OUT_OF_MEMORY, f"{note}; trap: {cause.removeprefix('wasm trap: ')}{trace}")
    if isinstance(exc, wasmtime.Trap) or "wasm trap:" in cause or backtrace:
        return failure(FailureKind.TRAP, f"trap: {cause.removeprefix('wasm trap: ')}{trace}")
    return failure(FailureKind.ERROR, f"runtime error: {cause}{trace}")


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


def _memory_note(size: int, limit: int) -> str:
    return f"out of memory: the call failed with its memory at {_mib(size)} of its {_mib(limit)} limit"


def _is_memory_limit_error(cause: str) -> bool:
    # What wasmtime says when instantiation needs more memory than the store allows.
    lowered = cause.lower()
    return "memory" in lowered and ("limit" in lowered or "exceeds" in lowered) and "out of bounds" not in lowered


def _split_wasmtime_message(text: str) -> tuple[str, str]:
    """wasmtime's "error while executing at wasm backtrace: ... Caused by: ..." into (cause, frames)."""
    head, sep, tail = text.partition("Caused by:")
    if not sep:
        return text.strip(), ""
    cause = " ".join(line.strip() for line in tail.strip().splitlines() if line.strip())
    frames = [line.rstrip() for line in head.splitlines()[1:] if line.strip()]
    if len(frames) > _BACKTRACE_FRAMES:
        frames = frames[:_BACKTRACE_FRAMES] + [f"    ... {len(frames) - _BACKTRACE_FRAMES} more frames"]
    return cause, "\n".join(frames)


def _last_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""


def _clip(message: str) -> str:
    if len(message) <= _MAX_MESSAGE:
        return message
    return message[: _MAX_MESSAGE - 20] + " ... (message clipped)"
