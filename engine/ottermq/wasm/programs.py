"""Build the runnable program of a compiled module: its shape, linked imports and metadata."""

from __future__ import annotations

import wasmtime
import wasmtime.component as wc

from ottermq.errors import HandlerModuleError
from ottermq.wasm.command import CommandProgram
from ottermq.wasm.compiler import Compiled
from ottermq.wasm.component import ComponentProgram
from ottermq.wasm.core import CoreProgram
from ottermq.wasm.model import ModuleInfo, SandboxSpec
from ottermq.wasm.session import CallEnv, Program, StoreBudget
from ottermq.wasm.shapes import component_shape, core_imports, core_shape
from ottermq.wasm.wasi import LogSink, build_wasi

__all__ = ["build_program"]

_LINK_CHECK_TIMEOUT_MS = 5_000


def build_program(
    env: CallEnv, compiled: Compiled, abi: str, linker: wasmtime.Linker, component_linker: wc.Linker
) -> tuple[Program, ModuleInfo]:
    if isinstance(compiled.artifact, wasmtime.Module):
        return _core_program(env, compiled, abi, linker)
    return _component_program(env, compiled, abi, component_linker)


def _core_program(env: CallEnv, compiled: Compiled, abi: str, linker: wasmtime.Linker) -> tuple[Program, ModuleInfo]:
    module = compiled.artifact
    assert isinstance(module, wasmtime.Module)
    layout = core_shape(module, abi)
    imports = core_imports(module)
    try:
        pre = linker.instantiate_pre(module)
    except wasmtime.WasmtimeError as exc:
        raise HandlerModuleError(
            f"cannot link handler module: {str(exc).strip()}; the sandbox provides only WASI preview 1 "
            f"(wasi_snapshot_preview1) to core modules and commands; the module imports {', '.join(imports)}"
        ) from None
    program: Program = CommandProgram(env, pre, layout) if layout.shape == "command" else CoreProgram(env, pre, layout)
    info = ModuleInfo(
        shape=layout.shape,
        exports=tuple(export.name for export in module.exports),
        imports=imports,
        digest=compiled.digest,
    )
    return program, info


def _component_program(env: CallEnv, compiled: Compiled, abi: str, linker: wc.Linker) -> tuple[Program, ModuleInfo]:
    component = compiled.artifact
    assert isinstance(component, wc.Component)
    exports, imports = component_shape(component, env.engine, abi)
    _check_component_imports(env, component, linker, imports)
    info = ModuleInfo(shape="component", exports=exports, imports=imports, digest=compiled.digest)
    return ComponentProgram(env, component, linker), info


def _check_component_imports(env: CallEnv, component: wc.Component, linker: wc.Linker, imports: tuple[str, ...]) -> None:
    """Instantiate once in a throwaway store so a missing import fails at load time, not per call.

    Only a linking failure is an error here; a trap or a limit hit while the
    component starts up is reported by the calls themselves.
    """
    budget = StoreBudget(env, SandboxSpec())
    env.ticker.enter()
    try:
        budget.store.set_wasi(build_wasi(SandboxSpec(), {}, log=LogSink(1024)))
        budget.arm(env.ticker.ticks_for(_LINK_CHECK_TIMEOUT_MS), None)
        linker.instantiate(budget.store, component)
    except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
        message = str(exc)
        if "matching implementation was not found" in message or "has the wrong type" in message:
            detail = " ".join(line.strip() for line in message.splitlines() if line.strip())
            raise HandlerModuleError(
                f"cannot link handler component: {detail}; the sandbox provides WASI preview 2 only; "
                f"the component imports {', '.join(imports) or 'nothing'}"
            ) from None
    finally:
        env.ticker.leave()
        budget.close()
