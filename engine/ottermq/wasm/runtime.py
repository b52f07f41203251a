"""WasmRuntime (one per process: the engine, caches, epoch ticker) and LoadedHandler."""

from __future__ import annotations

import os
import re
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path

import wasmtime
import wasmtime.component as wc

from ottermq.errors import ConfigError, InternalError
from ottermq.wasm.bounded_poll import CallClock, define_bounded_poll
from ottermq.wasm.cache import CacheStats, DiskCache
from ottermq.wasm.calls import calls_factory
from ottermq.wasm.compiler import Compiler, read_source
from ottermq.wasm.engine import EngineOptions, EpochTicker, build_engine, engine_fingerprint
from ottermq.wasm.model import ABIS, CallResult, FailureKind, ModuleInfo, SandboxSpec
from ottermq.wasm.outcome import Outcome, failure
from ottermq.wasm.programs import build_program
from ottermq.wasm.session import CallEnv, Program, Session
from ottermq.wasm.wasi import check_dir_grants

__all__ = ["LoadedHandler", "WasmRuntime"]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MIN_MEMORY = 64 * 1024


class WasmRuntime:
    """Owns the process's one wasmtime Engine, its module caches and its epoch ticker.

    Thread-safe: load handlers from any thread, call them from many.
    ``env`` is the host environment granted variables are taken from (default:
    ``os.environ`` at call time). ``fast_calls=False`` forces wasmtime-py's
    public call API instead of the C fast path.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        engine_options: EngineOptions | None = None,
        fast_calls: bool = True,
    ) -> None:
        self.options = engine_options or EngineOptions()
        self._engine = build_engine(self.options)
        self._ticker = EpochTicker(self._engine)
        self._env = env
        self._call_env = CallEnv(
            engine=self._engine,
            ticker=self._ticker,
            clock=CallClock(),
            calls=calls_factory(fast_calls),
            fuel_metered=self.options.consume_fuel,
        )
        self._disk = DiskCache(Path(cache_dir) if cache_dir is not None else None, engine_fingerprint(self.options))
        self._compiler = Compiler(self._engine, self._disk)
        self._linker = wasmtime.Linker(self._engine)
        self._linker.define_wasi()
        define_bounded_poll(self._linker, self._call_env.clock)
        self._component_linker = wc.Linker(self._engine)
        self._component_linker.add_wasip2()
        self._programs: dict[tuple[str, str], tuple[Program, ModuleInfo]] = {}
        self._lock = threading.Lock()
        self._handlers: weakref.WeakSet[LoadedHandler] = weakref.WeakSet()
        self._closed = False

    def __enter__(self) -> WasmRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def inspect(self, source: bytes | Path) -> ModuleInfo:
        """Compile (or fetch from cache) and describe a module; HandlerModuleError if unusable."""
        return self._program(read_source(source), "auto")[1]

    def load(self, source: bytes | Path, spec: SandboxSpec) -> LoadedHandler:
        """A handler ready to call; the module is compiled once per content hash."""
        self._check_spec(spec)
        program, info = self._program(read_source(source), spec.abi)
        handler = LoadedHandler(self, program, info, spec)
        with self._lock:
            self._handlers.add(handler)
        return handler

    def cache_stats(self) -> CacheStats:
        return self._disk.counters.snapshot()

    def environ(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    def close(self) -> None:
        """Stop the ticker and free instances; call when no call is running."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            handlers = list(self._handlers)
            self._programs.clear()
        for handler in handlers:
            handler._close_sessions()
        self._ticker.stop()
        self._compiler.clear()

    def _program(self, data: bytes, abi: str) -> tuple[Program, ModuleInfo]:
        if self._closed:
            raise InternalError("the WASM runtime is closed")
        compiled = self._compiler.compile(data)
        key = (compiled.digest, abi)
        found = self._programs.get(key)
        if found is None:
            found = build_program(self._call_env, compiled, abi, self._linker, self._component_linker)
            with self._lock:
                found = self._programs.setdefault(key, found)
        return found

    def _check_spec(self, spec: SandboxSpec) -> None:
        problems = []
        if spec.abi not in ABIS:
            problems.append(f"abi must be one of {', '.join(ABIS)}, not {spec.abi!r}")
        if spec.memory_bytes < _MIN_MEMORY:
            problems.append(f"memory must be at least {_MIN_MEMORY} bytes (one WebAssembly page)")
        if spec.timeout_ms <= 0:
            problems.append("timeout must be positive")
        if spec.fuel is not None and spec.fuel <= 0:
            problems.append("fuel must be positive")
        if spec.fuel is not None and not self.options.consume_fuel:
            problems.append("a fuel budget needs an engine with fuel metering")
        if spec.max_output_bytes <= 0 or spec.max_stderr_bytes < 0:
            problems.append("output and stderr limits must be positive")
        problems += [f"{name!r} is not an environment variable name" for name in spec.env if not _ENV_NAME.fullmatch(name)]
        if problems:
            raise ConfigError("invalid handler sandbox: " + "; ".join(problems))
        check_dir_grants(spec)


class LoadedHandler:
    """A handler bound to its sandbox spec. ``call`` never raises for guest misbehaviour.

    Thread-safe: every call runs in its own Store. With ``reuse_instance`` each
    thread keeps one instance and re-creates it after any failed call.
    """

    def __init__(self, runtime: WasmRuntime, program: Program, info: ModuleInfo, spec: SandboxSpec) -> None:
        self.shape = program.shape
        self.digest = info.digest
        self.spec = spec
        self.info = info
        self._runtime = runtime
        self._env = runtime._call_env
        self._program = program
        self._reuse = spec.reuse_instance and program.reusable
        self._local = threading.local()
        # Weak: a thread that ends takes its instance with it.
        self._live: weakref.WeakSet[Session] = weakref.WeakSet()
        self._lock = threading.Lock()

    def call(self, input_json: str, *, timeout_ms: int | None = None) -> CallResult:
        if self._runtime.closed:
            raise InternalError("the WASM runtime is closed")
        timeout = self.spec.timeout_ms if timeout_ms is None else timeout_ms
        ticker = self._env.ticker
        started = time.perf_counter()
        ticker.enter()
        try:
            self._env.clock.begin(timeout)
            session = self._session(input_json)
            if isinstance(session, Outcome):
                outcome, logs, fuel = session, "", None
            else:
                ok = False
                try:
                    session.arm(ticker.ticks_for(timeout), self.spec.fuel)
                    outcome = session.invoke(input_json)
                    if self._env.clock.cut_short and outcome.kind is not FailureKind.TIMEOUT:
                        outcome = _slept_past_deadline(timeout)
                    logs, fuel = session.logs(), session.fuel_used()
                    ok = outcome.ok
                finally:
                    self._release(session, ok)
        finally:
            ticker.leave()
        return CallResult(
            ok=outcome.ok,
            output=outcome.output,
            error=outcome.error,
            kind=outcome.kind,
            permanent=outcome.permanent,
            stderr=logs,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
            fuel_used=fuel,
        )

    def _session(self, input_json: str) -> Session | Outcome:
        if self._reuse:
            cached: Session | None = getattr(self._local, "session", None)
            if cached is not None:
                return cached
        try:
            session = self._program.open(self.spec, self._runtime.environ(), input_json)
        except wasmtime.WasmtimeError as exc:  # e.g. a granted directory removed since load
            return failure(FailureKind.ERROR, f"cannot set up the sandbox: {exc}")
        if self._reuse:
            self._local.session = session
            with self._lock:
                self._live.add(session)
        return session

    def _release(self, session: Session, ok: bool) -> None:
        if self._reuse and ok:
            return
        if self._reuse:
            self._local.session = None
            with self._lock:
                self._live.discard(session)
        session.close()

    def _close_sessions(self) -> None:
        with self._lock:
            sessions = list(self._live)
            self._live.clear()
        for session in sessions:
            session.close()


def _slept_past_deadline(timeout_ms: int) -> Outcome:
    return failure(FailureKind.TIMEOUT, f"timed out: the handler was still sleeping at its {timeout_ms} ms deadline")
