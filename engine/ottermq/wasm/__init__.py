"""WASM handler runtime: the only package that imports ``wasmtime``.

A handler is a WebAssembly module with one contract, ``handle: func(input: string)
-> result<string, string>`` (JSON text in; JSON text out, or an error), in one of
three shapes: a WASI command, a core module exporting the canonical-ABI lowering of
``handle``, or a component. See docs/handlers.md for the contract handler authors
build to.

    runtime = WasmRuntime(cache_dir)
    handler = runtime.load(Path("total.wasm"), SandboxSpec(timeout_ms=5_000))
    result = handler.call('{"items": [1, 2]}')   # a CallResult, never an exception
"""

from __future__ import annotations

from ottermq.wasm.model import CallResult, DirGrant, FailureKind, ModuleInfo, SandboxSpec
from ottermq.wasm.runtime import LoadedHandler, WasmRuntime

__all__ = [
    "CallResult",
    "DirGrant",
    "FailureKind",
    "LoadedHandler",
    "ModuleInfo",
    "SandboxSpec",
    "WasmRuntime",
]
