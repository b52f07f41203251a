"""The one wasmtime Engine of a process, its configuration fingerprint and its epoch ticker."""

from __future__ import annotations

import hashlib
import json
import platform
import threading
import time
from dataclasses import asdict, dataclass
from importlib import metadata

import wasmtime

__all__ = ["EngineOptions", "EpochTicker", "build_engine", "engine_fingerprint", "wasmtime_version"]

EPOCH_TICK_MS = 10


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Engine settings that change compiled code, so they are part of the module cache key."""

    # Fuel metering lets a spec set an instruction budget and lets every call report fuel used.
    consume_fuel: bool = True
    cranelift_opt_level: str = "speed"
    # Guest stack; deep recursion traps with "call stack exhausted" instead of crashing.
    max_wasm_stack: int = 1024 * 1024


def wasmtime_version() -> str:
    try:
        return metadata.version("wasmtime")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_engine(options: EngineOptions) -> wasmtime.Engine:
    config = wasmtime.Config()
    # Epoch interruption is not optional: it is how every call gets its deadline.
    config.epoch_interruption = True
    config.consume_fuel = options.consume_fuel
    config.cranelift_opt_level = options.cranelift_opt_level
    config.max_wasm_stack = options.max_wasm_stack
    config.wasm_component_model = True
    # wasmtime's own compilation cache stays off (its default): ours is keyed and checked.
    return wasmtime.Engine(config)


def engine_fingerprint(options: EngineOptions) -> str:
    """A short hash of everything that makes a precompiled module unusable elsewhere."""
    key = {
        "options": asdict(options),
        "epoch_interruption": True,
        "wasmtime": wasmtime_version(),
        "machine": platform.machine(),
        "system": platform.system(),
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


class EpochTicker:
    """Advances the engine's epoch every tick while calls are running.

    A call's deadline is a number of ticks (``Store.set_epoch_deadline``), so the
    guest traps with an interrupt within about one tick of its timeout. The thread
    keeps ticking for a moment after the last call ends (waking it for every call
    would cost a GIL hand-off per call) and then sleeps until the next call, so an
    idle worker costs nothing.
    """

    def __init__(self, engine: wasmtime.Engine, tick_ms: int = EPOCH_TICK_MS, linger_s: float = 1.0) -> None:
        self.tick_ms = tick_ms
        self._engine = engine
        self._linger_s = linger_s
        self._lock = threading.Lock()
        self._active = 0
        self._last_busy = 0.0
        self._idle = True
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ottermq-wasm-epoch", daemon=True)
        self._thread.start()

    def ticks_for(self, timeout_ms: int) -> int:
        # One extra tick: the current tick may be about to end.
        return max(1, -(-timeout_ms // self.tick_ms)) + 1

    def enter(self) -> None:
        with self._lock:
            self._active += 1
            wake = self._idle
            self._idle = False
        if wake:
            self._wake.set()

    def leave(self) -> None:
        with self._lock:
            self._active -= 1
            self._last_busy = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=1.0)

    def _run(self) -> None:
        interval = self.tick_ms / 1000.0
        next_tick = time.monotonic() + interval
        while not self._stop.is_set():
            if self._idle_now():
                self._wake.wait()
                self._wake.clear()
                next_tick = time.monotonic() + interval
                continue
            # An absolute schedule: a late wake-up delays one tick, it does not
            # stretch every later deadline.
            if self._stop.wait(max(0.0, next_tick - time.monotonic())):
                return
            self._engine.increment_epoch()
            next_tick += interval
            now = time.monotonic()
            if next_tick < now - interval:  # far behind (a suspended process): do not burst
                next_tick = now

    def _idle_now(self) -> bool:
        with self._lock:
            if self._active == 0 and time.monotonic() - self._last_busy > self._linger_s:
                self._idle = True
            return self._idle
