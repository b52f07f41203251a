"""The component shape: ``handle: func(input: string) -> result<string, string>``.

This is what componentize-py and componentize-js produce. Components get WASI
preview 2 with the spec's grants; their stdout and stderr are kept as the log.
wasmtime-py has no pre-instantiation for components, so a fresh instance per call
costs a full instantiation; ``reuse_instance`` is the fast path for trusted handlers.
"""

from __future__ import annotations

from collections.abc import Mapping

import wasmtime
import wasmtime.component as wc

from ottermq.errors import HandlerModuleError
from ottermq.wasm.model import FailureKind, SandboxSpec
from ottermq.wasm.outcome import Outcome, failure, from_error_payload, from_exception, from_text_output
from ottermq.wasm.session import CallEnv, StoreBudget
from ottermq.wasm.wasi import LogSink, build_wasi

__all__ = ["ComponentProgram"]


class ComponentProgram:
    shape = "component"
    reusable = True

    def __init__(self, env: CallEnv, component: wc.Component, linker: wc.Linker) -> None:
        self.env = env
        self.component = component
        self.linker = linker
        index = component.get_export_index("handle")
        if index is None:  # shapes.component_shape has checked the export already
            raise HandlerModuleError("component has no `handle` export")
        self.handle_index = index

    def open(self, spec: SandboxSpec, environ: Mapping[str, str], data: str) -> _ComponentSession:
        return _ComponentSession(self, spec, environ)


class _ComponentSession:
    def __init__(self, program: ComponentProgram, spec: SandboxSpec, environ: Mapping[str, str]) -> None:
        self._program = program
        self._spec = spec
        self._budget = StoreBudget(program.env, spec)
        self._log = LogSink(spec.max_stderr_bytes)
        # A component store must always have WASI set: a WASI import on a store
        # without it aborts the process inside wasmtime.
        self._budget.store.set_wasi(build_wasi(spec, environ, log=self._log))
        self._func: wc.Func | None = None

    def arm(self, ticks: int, fuel: int | None) -> None:
        self._budget.arm(ticks, fuel)
        self._log.reset()

    def logs(self) -> str:
        return self._log.text()

    def fuel_used(self) -> int | None:
        return self._budget.fuel_used()

    def close(self) -> None:
        self._func = None
        self._budget.close()

    def invoke(self, data: str) -> Outcome:
        store = self._budget.store
        try:
            if self._func is None:
                instance = self._program.linker.instantiate(store, self._program.component)
                self._func = instance.get_func(store, self._program.handle_index)
                if self._func is None:
                    return failure(FailureKind.INVALID_OUTPUT, "the component instance has no `handle` function")
            result = self._func(store, data)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            return from_exception(
                exc,
                timed_out=self._program.env.clock.cut_short,
                memory_limit=self._spec.memory_bytes,
                logs=self._log.text(),
            )
        tag = getattr(result, "tag", None)
        payload = getattr(result, "payload", None)
        if not isinstance(payload, str) or tag not in ("ok", "err"):
            return failure(FailureKind.INVALID_OUTPUT, f"handle returned {result!r}; expected result<string, string>")
        if tag == "err":
            return from_error_payload(payload)
        return from_text_output(payload, self._spec.max_output_bytes)
