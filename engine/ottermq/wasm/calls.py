"""Calling into one core-module instance: a fast path through the C API and the public one.

Most of the cost of a small handler call is Python glue, not guest code:
``wasmtime.Func.__call__`` re-reads the function type and boxes every value on
every call. The fast path calls ``wasmtime_func_call_unchecked`` and reads guest
memory through ctypes directly, which is sound because the shape check has
already verified every signature it calls (all i32). It depends on wasmtime-py's
private ``_ffi`` module (pinned: wasmtime>=50,<51); when that is not available the
public API is used, with the same behaviour and the same exceptions (``Trap``,
``WasmtimeError``, ``ExitTrap``).
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import wasmtime

__all__ = ["CoreCalls", "CallsFactory", "calls_factory"]


class CoreCalls(Protocol):
    """Calls and memory access for one instance, bound to its store."""

    def func(self, index: int) -> Any | None: ...

    def memory(self, index: int) -> Any | None: ...

    def call(self, func: Any, args: tuple[int, ...], nresults: int) -> int | None:
        """Call an all-i32 function; returns its result as an unsigned 32-bit value (or None)."""
        ...

    def read(self, memory: Any, ptr: int, length: int) -> bytes | None:
        """Guest bytes [ptr, ptr+length), or None when that range is out of bounds."""
        ...

    def write(self, memory: Any, ptr: int, data: bytes) -> bool: ...

    def memory_size(self, memory: Any) -> int: ...


CallsFactory = Callable[[wasmtime.Store, wasmtime.Instance], CoreCalls]


def calls_factory(fast: bool = True) -> CallsFactory:
    """The fast path when asked for and available, else the public API."""
    lib = _raw_lib() if fast else None
    if lib is None:
        return _PublicCalls
    return functools.partial(_RawCalls, lib)


class _PublicCalls:
    __slots__ = ("_store", "_exports")

    def __init__(self, store: wasmtime.Store, instance: wasmtime.Instance) -> None:
        self._store = store
        self._exports = instance.exports(store).by_index

    def func(self, index: int) -> Any | None:
        item = self._exports[index]
        return item if isinstance(item, wasmtime.Func) else None

    def memory(self, index: int) -> Any | None:
        item = self._exports[index]
        return item if isinstance(item, wasmtime.Memory) else None

    def call(self, func: Any, args: tuple[int, ...], nresults: int) -> int | None:
        result = func(self._store, *args)
        return None if result is None else int(result) & 0xFFFFFFFF

    def read(self, memory: Any, ptr: int, length: int) -> bytes | None:
        if ptr < 0 or length < 0 or ptr + length > memory.data_len(self._store):
            return None
        return bytes(memory.read(self._store, ptr, ptr + length))

    def write(self, memory: Any, ptr: int, data: bytes) -> bool:
        if ptr < 0 or ptr + len(data) > memory.data_len(self._store):
            return False
        memory.write(self._store, data, ptr)
        return True

    def memory_size(self, memory: Any) -> int:
        return int(memory.data_len(self._store))


@dataclass(frozen=True, slots=True)
class _RawLib:
    ffi: Any
    call: Any
    export_nth: Any
    mem_data: Any
    mem_size: Any
    func_kind: int
    memory_kind: int
    extern_size: int
    extern_payload_offset: int


@functools.cache
def _raw_lib() -> _RawLib | None:
    try:
        from wasmtime import _ffi as ffi

        dll = ffi.dll
        # dll[name] makes a new function object, so these argtypes never touch wasmtime-py's own.
        call = dll["wasmtime_func_call_unchecked"]
        call.restype = ctypes.c_void_p
        call.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
        export_nth = dll["wasmtime_instance_export_nth"]
        export_nth.restype = ctypes.c_bool
        export_nth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        mem_data = dll["wasmtime_memory_data"]
        mem_data.restype = ctypes.c_void_p
        mem_data.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        mem_size = dll["wasmtime_memory_data_size"]
        mem_size.restype = ctypes.c_size_t
        mem_size.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        return _RawLib(
            ffi=ffi,
            call=call,
            export_nth=export_nth,
            mem_data=mem_data,
            mem_size=mem_size,
            func_kind=ffi.WASMTIME_EXTERN_FUNC.value,
            memory_kind=ffi.WASMTIME_EXTERN_MEMORY.value,
            extern_size=ctypes.sizeof(ffi.wasmtime_extern_t),
            extern_payload_offset=ffi.wasmtime_extern_t.of.offset,
        )
    except (ImportError, AttributeError, OSError):
        return None


class _RawCalls:
    """Every ctypes object is made once per instance; calls pass plain integer addresses."""

    __slots__ = (
        "_lib",
        "_store",
        "_instance",
        "_ctx",
        "_inst_addr",
        "_args",
        "_args_addr",
        "_trap",
        "_trap_addr",
        "_externs",
        "_externs_addr",
        "_used",
        "_name",
        "_name_addrs",
    )

    _SLOTS = 8  # more than the exports any shape looks up

    def __init__(self, lib: _RawLib, store: wasmtime.Store, instance: wasmtime.Instance) -> None:
        self._lib = lib
        self._store = store  # keeps the context pointer valid
        self._instance = instance
        self._ctx = ctypes.cast(store._context(), ctypes.c_void_p).value
        self._inst_addr = ctypes.addressof(instance._instance)
        self._args = (lib.ffi.wasmtime_val_raw_t * 4)()
        self._args_addr = ctypes.addressof(self._args)
        self._trap = ctypes.c_void_p()
        self._trap_addr = ctypes.addressof(self._trap)
        self._externs = (lib.ffi.wasmtime_extern_t * self._SLOTS)()
        self._externs_addr = ctypes.addressof(self._externs)
        self._used = 0
        self._name = (ctypes.c_void_p(), ctypes.c_size_t())
        self._name_addrs = (ctypes.addressof(self._name[0]), ctypes.addressof(self._name[1]))

    def _extern(self, index: int, kind: int) -> int | None:
        """The address of the export's payload (a wasmtime_func_t or wasmtime_memory_t)."""
        lib = self._lib
        slot = self._used
        if slot >= self._SLOTS:
            return None
        addr = self._externs_addr + slot * lib.extern_size
        if not lib.export_nth(self._ctx, self._inst_addr, index, self._name_addrs[0], self._name_addrs[1], addr):
            return None
        if self._externs[slot].kind != kind:
            return None
        self._used = slot + 1
        return addr + lib.extern_payload_offset

    def func(self, index: int) -> Any | None:
        return self._extern(index, self._lib.func_kind)

    def memory(self, index: int) -> Any | None:
        return self._extern(index, self._lib.memory_kind)

    def call(self, func: Any, args: tuple[int, ...], nresults: int) -> int | None:
        lib = self._lib
        slots = self._args
        for i, value in enumerate(args):
            slots[i].i32 = value
        trap = self._trap
        trap.value = None
        error = lib.call(self._ctx, func, self._args_addr, max(len(args), nresults), self._trap_addr)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(ctypes.cast(error, ctypes.POINTER(lib.ffi.wasmtime_error_t)))
        if trap.value:
            raise wasmtime.Trap._from_ptr(ctypes.cast(trap.value, ctypes.POINTER(lib.ffi.wasm_trap_t)))
        return slots[0].i32 & 0xFFFFFFFF if nresults else None

    def read(self, memory: Any, ptr: int, length: int) -> bytes | None:
        if ptr < 0 or length < 0 or ptr + length > self._lib.mem_size(self._ctx, memory):
            return None
        return ctypes.string_at(self._lib.mem_data(self._ctx, memory) + ptr, length)

    def write(self, memory: Any, ptr: int, data: bytes) -> bool:
        if ptr < 0 or ptr + len(data) > self._lib.mem_size(self._ctx, memory):
            return False
        ctypes.memmove(self._lib.mem_data(self._ctx, memory) + ptr, data, len(data))
        return True

    def memory_size(self, memory: Any) -> int:
        return int(self._lib.mem_size(self._ctx, memory))
