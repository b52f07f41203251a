"""Which of the three handler shapes a compiled module has, read from its exports.

* command: a core module exporting ``_start`` (a WASI preview 1 program);
* core: a core module exporting ``memory``, ``cabi_realloc`` and ``handle`` with the
  canonical-ABI lowering of ``handle: func(input: string) -> result<string, string>``;
* component: a component exporting that function as ``handle``.

When ``abi`` is forced, the module must fit that shape; otherwise core wins over
command (it is the faster path) when a module fits both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import wasmtime
import wasmtime.component as wc

from ottermq.errors import HandlerModuleError
from ottermq.wasm.model import ABIS

__all__ = ["CoreLayout", "WASI_P1", "component_shape", "core_imports", "core_shape", "describe_core_exports"]

WASI_P1 = "wasi_snapshot_preview1"
EXPECTED = (
    "expected a WASI command exporting `_start`, a core module exporting `memory`, "
    "`cabi_realloc(i32, i32, i32, i32) -> i32` and `handle(i32, i32) -> i32`, or a component "
    "exporting `handle: func(input: string) -> result<string, string>`"
)
_CORE_FUNCS = {
    "cabi_realloc": ((4, 1), "func(i32, i32, i32, i32) -> i32"),
    "handle": ((2, 1), "func(i32, i32) -> i32"),
}


@dataclass(frozen=True, slots=True)
class CoreLayout:
    """Where the exports a core-shaped call needs sit in the instance's export list."""

    shape: str  # "core" or "command"
    memory: int | None
    realloc: int | None
    handle: int | None
    post_return: int | None  # cabi_post_handle
    initialize: int | None  # _initialize, run once per instance (WASI reactors)
    start: int | None
    uses_wasi: bool


def _func_sig(ty: wasmtime.FuncType) -> str:
    params = ", ".join(str(p) for p in ty.params)
    results = ", ".join(str(r) for r in ty.results)
    return f"func({params})" + (f" -> {results}" if results else "")


def _is_i32_func(ty: object, params: int, results: int) -> bool:
    if not isinstance(ty, wasmtime.FuncType):
        return False
    i32 = wasmtime.ValType.i32()
    return len(ty.params) == params and len(ty.results) == results and all(t == i32 for t in (*ty.params, *ty.results))


def describe_core_exports(module: wasmtime.Module) -> list[str]:
    out = []
    for export in module.exports:
        ty = export.type
        kind = _func_sig(ty) if isinstance(ty, wasmtime.FuncType) else type(ty).__name__.removesuffix("Type").lower()
        out.append(f"{export.name}: {kind}")
    return out


def core_imports(module: wasmtime.Module) -> tuple[str, ...]:
    return tuple(f"{imp.module}::{imp.name}" for imp in module.imports)


def core_shape(module: wasmtime.Module, abi: str) -> CoreLayout:
    """The layout of a core module's exports, or HandlerModuleError naming what is missing."""
    _check_abi(abi)
    if abi == "component":
        raise HandlerModuleError(f"abi `component` was requested, but this is a core WebAssembly module; {EXPECTED}")
    index = {export.name: (i, export.type) for i, export in enumerate(module.exports)}
    problems = _core_problems(index)
    uses_wasi = any(imp.module == WASI_P1 for imp in module.imports)
    if abi in ("auto", "core") and not problems:
        return _layout("core", index, uses_wasi)
    start = index.get("_start")
    start_ok = start is not None and _is_i32_func(start[1], 0, 0)
    if abi in ("auto", "command") and start_ok:
        return _layout("command", index, uses_wasi)
    found = ", ".join(describe_core_exports(module)) or "nothing"
    if abi == "core":
        raise HandlerModuleError(f"abi `core` was requested, but {'; '.join(problems)}; the module exports {found}")
    if abi == "command":
        raise HandlerModuleError(
            f"abi `command` was requested, but the module has no `_start: func()` export; it exports {found}"
        )
    raise HandlerModuleError(f"module has no known handler shape: it exports {found}; {EXPECTED}")


def _core_problems(index: Mapping[str, tuple[int, object]]) -> list[str]:
    problems = []
    memory = index.get("memory")
    if memory is None or not isinstance(memory[1], wasmtime.MemoryType):
        problems.append("`memory` is not exported")
    for name, ((params, results), sig) in _CORE_FUNCS.items():
        entry = index.get(name)
        if entry is None:
            problems.append(f"`{name}` is not exported")
        elif not _is_i32_func(entry[1], params, results):
            found = _func_sig(entry[1]) if isinstance(entry[1], wasmtime.FuncType) else "not a function"
            problems.append(f"`{name}` has type {found}, expected {sig}")
    post = index.get("cabi_post_handle")
    if post is not None and not _is_i32_func(post[1], 1, 0):
        problems.append("`cabi_post_handle` must have type func(i32)")
    return problems


def _layout(shape: str, index: Mapping[str, tuple[int, object]], uses_wasi: bool) -> CoreLayout:
    def at(name: str) -> int | None:
        entry = index.get(name)
        return entry[0] if entry is not None else None

    initialize = at("_initialize")
    if initialize is not None and not _is_i32_func(index["_initialize"][1], 0, 0):
        initialize = None
    return CoreLayout(
        shape=shape,
        memory=at("memory"),
        realloc=at("cabi_realloc"),
        handle=at("handle"),
        post_return=at("cabi_post_handle"),
        initialize=initialize if shape == "core" else None,
        start=at("_start"),
        uses_wasi=uses_wasi,
    )


def component_shape(component: wc.Component, engine: wasmtime.Engine, abi: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Check a component's ``handle`` export; returns (export names, import names)."""
    _check_abi(abi)
    exports = component.type.exports(engine)
    imports = tuple(component.type.imports(engine))
    names = tuple(exports)
    if abi in ("core", "command"):
        raise HandlerModuleError(f"abi `{abi}` was requested, but this is a component; {EXPECTED}")
    handle = exports.get("handle")
    found = ", ".join(f"{name}: {_describe_item(item.ty)}" for name, item in exports.items()) or "nothing"
    if handle is None:
        raise HandlerModuleError(f"component has no `handle` export: it exports {found}; {EXPECTED}")
    ty = handle.ty
    if not (isinstance(ty, wc.FuncType) and _is_handle_type(ty)):
        raise HandlerModuleError(
            f"component export `handle` has type {_describe_item(ty)}, expected func(input: string) -> result<string, string>"
        )
    return names, imports


def _is_handle_type(ty: wc.FuncType) -> bool:
    params = ty.params
    result = ty.result
    return (
        len(params) == 1
        and isinstance(params[0][1], wc.String)
        and isinstance(result, wc.ResultType)
        and isinstance(result.ok, wc.String)
        and isinstance(result.err, wc.String)
    )


def _describe_item(item: object) -> str:
    if isinstance(item, wc.FuncType):
        params = ", ".join(f"{name}: {_describe_val(ty)}" for name, ty in item.params)
        result = item.result
        return f"func({params})" + (f" -> {_describe_val(result)}" if result is not None else "")
    return type(item).__name__.removesuffix("Type").lower() or "item"


def _describe_val(ty: object) -> str:
    if isinstance(ty, wc.ResultType):
        ok, err = ty.ok, ty.err
        return f"result<{_describe_val(ok) if ok else '_'}, {_describe_val(err) if err else '_'}>"
    return type(ty).__name__.lower()


def _check_abi(abi: str) -> None:
    if abi not in ABIS:
        raise HandlerModuleError(f"unknown abi {abi!r}; expected one of {', '.join(ABIS)}")
