"""What the three shapes share: a Store with the call's limits, and the session protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import wasmtime

from ottermq.wasm.bounded_poll import CallClock
from ottermq.wasm.calls import CallsFactory
from ottermq.wasm.engine import EpochTicker
from ottermq.wasm.model import SandboxSpec
from ottermq.wasm.outcome import Outcome

__all__ = ["CallEnv", "Program", "Session", "StoreBudget"]

# A budget no call can use up; set when the spec has no fuel limit but the engine meters fuel.
UNMETERED_FUEL = (1 << 63) - 1
# Tables grow too; this caps them independently of linear memory (8 bytes per element).
TABLE_ELEMENTS_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True)
class CallEnv:
    """Runtime-wide things a session needs, shared by every handler of a runtime."""

    engine: wasmtime.Engine
    ticker: EpochTicker
    clock: CallClock
    calls: CallsFactory
    fuel_metered: bool


class StoreBudget:
    """A Store with the spec's memory limit, re-armed with a deadline and fuel before each call."""

    def __init__(self, env: CallEnv, spec: SandboxSpec) -> None:
        self.store = wasmtime.Store(env.engine)
        self.store.set_limits(memory_size=spec.memory_bytes, table_elements=TABLE_ELEMENTS_LIMIT)
        self._metered = env.fuel_metered
        self._fuel = 0

    def arm(self, ticks: int, fuel: int | None) -> None:
        self.store.set_epoch_deadline(ticks)
        if self._metered:
            self._fuel = UNMETERED_FUEL if fuel is None else fuel
            self.store.set_fuel(self._fuel)

    def fuel_used(self) -> int | None:
        if not self._metered:
            return None
        try:
            return self._fuel - self.store.get_fuel()
        except wasmtime.WasmtimeError:
            return None

    def close(self) -> None:
        self.store.close()


class Session(Protocol):
    """One instance (or, for commands, one run) of a handler in its own Store."""

    def arm(self, ticks: int, fuel: int | None) -> None: ...

    def invoke(self, data: str) -> Outcome: ...

    def logs(self) -> str: ...

    def fuel_used(self) -> int | None: ...

    def close(self) -> None: ...


class Program(Protocol):
    """A compiled handler of one shape; opens sessions under a spec."""

    shape: str
    reusable: bool  # whether one instance may serve several calls

    def open(self, spec: SandboxSpec, environ: Mapping[str, str], data: str) -> Session: ...
