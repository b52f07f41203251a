"""The value types of the handler runtime: what a sandbox allows and what a call returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "SHAPES",
    "ABIS",
    "CallResult",
    "DirGrant",
    "FailureKind",
    "ModuleInfo",
    "SandboxSpec",
]

# The module shapes a handler can have, and the `abi` values a spec accepts.
SHAPES: tuple[str, ...] = ("command", "core", "component")
ABIS: tuple[str, ...] = ("auto", *SHAPES)


@dataclass(frozen=True, slots=True)
class DirGrant:
    """A host directory the handler may use, seen inside the sandbox at ``guest``."""

    host: str
    guest: str
    read_only: bool = True


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """Limits and capabilities of every call of one handler.

    Nothing from the host is visible unless granted here: no environment
    variable, no directory, no inherited stdio, no network.
    """

    abi: str = "auto"  # "auto" | "command" | "core" | "component"
    memory_bytes: int = 64 * 1024 * 1024
    timeout_ms: int = 30_000  # wall-clock deadline per call, enforced by epoch interruption
    fuel: int | None = None  # optional instruction budget per call
    max_output_bytes: int = 1024 * 1024
    max_stderr_bytes: int = 64 * 1024
    env: tuple[str, ...] = ()  # names of host environment variables granted
    dirs: tuple[DirGrant, ...] = ()
    reuse_instance: bool = False


class FailureKind(enum.StrEnum):
    """Why a call failed; the worker's retry policy is keyed on these values."""

    ERROR = "error"  # the handler returned an error (its own decision)
    TRAP = "trap"  # the guest trapped (unreachable, out-of-bounds access, ...)
    TIMEOUT = "timeout"  # the call ran past its deadline
    OUT_OF_MEMORY = "out_of_memory"  # the guest hit its memory limit
    OUTPUT_TOO_LARGE = "output_too_large"  # the output exceeded max_output_bytes
    INVALID_OUTPUT = "invalid_output"  # the output is not JSON text (or breaks the ABI)
    EXIT = "exit"  # a WASI command exited with a non-zero code
    OUT_OF_FUEL = "out_of_fuel"  # the guest used up its instruction budget


@dataclass(frozen=True, slots=True)
class CallResult:
    """The outcome of one handler call; guest misbehaviour is a value, never an exception."""

    ok: bool
    output: str | None  # JSON text when ok
    error: str | None  # a one-paragraph message when not ok
    kind: FailureKind | None  # None when ok
    permanent: bool  # the handler said: do not retry
    stderr: str  # the guest's logs (size-capped, the tail kept)
    elapsed_ms: float
    fuel_used: int | None  # None when the engine does not meter fuel


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """What a module is: its shape, what it exports and imports, and its content hash."""

    shape: str
    exports: tuple[str, ...]
    imports: tuple[str, ...]
    digest: str  # sha256 hex of the module bytes as given
