"""The core-module shape: the canonical-ABI lowering of ``handle``, called in place.

Per call: ``cabi_realloc(0, 0, 1, len)`` for the input, copy the UTF-8 input in,
``handle(ptr, len)`` returns a pointer to ``{tag: u8 @0, ptr: u32 @4, len: u32 @8}``
(tag 0 = ok, 1 = err), read the string, then ``cabi_post_handle(retptr)`` when
exported. A module that imports WASI gets it with the spec's grants; whatever it
writes to stdout or stderr is kept as its log.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

import wasmtime

from ottermq.wasm.calls import CoreCalls
from ottermq.wasm.model import FailureKind, SandboxSpec
from ottermq.wasm.outcome import Outcome, failure, from_error_payload, from_exception, from_output
from ottermq.wasm.session import CallEnv, StoreBudget
from ottermq.wasm.shapes import CoreLayout
from ottermq.wasm.wasi import LogSink, build_wasi

__all__ = ["CoreProgram"]

_RET = struct.Struct("<B3xII")


class CoreProgram:
    shape = "core"
    reusable = True

    def __init__(self, env: CallEnv, pre: wasmtime.InstancePre, layout: CoreLayout) -> None:
        self.env = env
        self.pre = pre
        self.layout = layout

    def open(self, spec: SandboxSpec, environ: Mapping[str, str], data: str) -> _CoreSession:
        return _CoreSession(self, spec, environ)


class _CoreSession:
    def __init__(self, program: CoreProgram, spec: SandboxSpec, environ: Mapping[str, str]) -> None:
        self._program = program
        self._spec = spec
        self._budget = StoreBudget(program.env, spec)
        self._log = LogSink(spec.max_stderr_bytes)
        if program.layout.uses_wasi:
            self._budget.store.set_wasi(build_wasi(spec, environ, log=self._log))
        self._calls: CoreCalls | None = None
        self._funcs: tuple[object, object, object, object | None] | None = None

    def arm(self, ticks: int, fuel: int | None) -> None:
        self._budget.arm(ticks, fuel)
        self._log.reset()

    def logs(self) -> str:
        return self._log.text()

    def fuel_used(self) -> int | None:
        return self._budget.fuel_used()

    def close(self) -> None:
        self._calls = None
        self._funcs = None
        self._budget.close()

    def invoke(self, data: str) -> Outcome:
        try:
            if self._calls is None:
                self._instantiate()
            return self._handle(data.encode("utf-8"))
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            return self._from_exception(exc)

    def _instantiate(self) -> None:
        layout = self._program.layout
        instance = self._program.pre.instantiate(self._budget.store)
        calls = self._program.env.calls(self._budget.store, instance)
        memory = calls.memory(layout.memory) if layout.memory is not None else None
        realloc = calls.func(layout.realloc) if layout.realloc is not None else None
        handle = calls.func(layout.handle) if layout.handle is not None else None
        post = calls.func(layout.post_return) if layout.post_return is not None else None
        if layout.initialize is not None:
            calls.call(calls.func(layout.initialize), (), 0)
        self._calls = calls
        self._funcs = (memory, realloc, handle, post)

    def _handle(self, data: bytes) -> Outcome:
        calls = self._calls
        assert calls is not None and self._funcs is not None
        memory, realloc, handle, post = self._funcs
        size = len(data)
        ptr = calls.call(realloc, (0, 0, 1, size), 1)
        if ptr is None or not calls.write(memory, ptr, data):
            return failure(FailureKind.INVALID_OUTPUT, f"cabi_realloc returned {ptr}, outside the guest's memory")
        retptr = calls.call(handle, (ptr, size), 1)
        head = calls.read(memory, retptr or 0, _RET.size)
        if head is None:
            return failure(FailureKind.INVALID_OUTPUT, f"handle returned {retptr}, outside the guest's memory")
        tag, out_ptr, out_len = _RET.unpack(head)
        if tag not in (0, 1):
            return failure(FailureKind.INVALID_OUTPUT, f"handle returned result tag {tag}; expected 0 (ok) or 1 (err)")
        limit = self._spec.max_output_bytes
        if out_len > limit:
            what = "output" if tag == 0 else "error"
            return failure(FailureKind.OUTPUT_TOO_LARGE, f"{what} of {out_len} bytes exceeds the limit of {limit} bytes")
        body = calls.read(memory, out_ptr, out_len)
        if body is None:
            return failure(
                FailureKind.INVALID_OUTPUT, f"handle's result string ({out_ptr}, {out_len}) is outside the guest's memory"
            )
        if post is not None:
            calls.call(post, (retptr or 0,), 0)
        if tag == 1:
            return from_error_payload(body.decode("utf-8", errors="replace"))
        return from_output(body, limit)

    def _from_exception(self, exc: Exception) -> Outcome:
        size = None
        if self._calls is not None and self._funcs is not None and self._funcs[0] is not None:
            size = self._calls.memory_size(self._funcs[0])
        return from_exception(
            exc,
            timed_out=self._program.env.clock.cut_short,
            memory_limit=self._spec.memory_bytes,
            memory_size=size,
            logs=self._log.text(),
        )
