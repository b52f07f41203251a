"""Compile a module once per content hash: memory cache, then disk cache, then the compiler."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import wasmtime
import wasmtime.component as wc

from ottermq.errors import HandlerModuleError
from ottermq.wasm.cache import DiskCache

__all__ = ["Compiled", "Compiler", "read_source"]

_WASM_MAGIC = b"\0asm"
_CORE_VERSION = b"\x01\x00\x00\x00"
_COMPONENT_LAYER = b"\x01\x00"


@dataclass(frozen=True, slots=True)
class Compiled:
    digest: str
    kind: str  # "module" or "component"
    artifact: wasmtime.Module | wc.Component


def read_source(source: bytes | Path) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except FileNotFoundError:
        raise HandlerModuleError(f"handler module {source} does not exist") from None
    except OSError as exc:
        raise HandlerModuleError(f"cannot read handler module {source}: {exc.strerror}") from None


def _binary(data: bytes) -> bytes:
    """The module in binary form; WebAssembly text is accepted too (tests, small handlers)."""
    if data.startswith(_WASM_MAGIC):
        return data
    not_wasm = "not a WebAssembly module: no `\\0asm` header, and not WebAssembly text"
    if b"\0" in data[:4096]:
        raise HandlerModuleError(not_wasm)
    try:
        return bytes(wasmtime.wat2wasm(data.decode("utf-8")))
    except UnicodeDecodeError:
        raise HandlerModuleError(not_wasm) from None
    except wasmtime.WasmtimeError as exc:
        raise HandlerModuleError(f"cannot parse WebAssembly text: {_first_line(str(exc))}") from None


def _kind(binary: bytes) -> str:
    version = binary[4:8]
    if version == _CORE_VERSION:
        return "module"
    if version[2:4] == _COMPONENT_LAYER:
        return "component"
    raise HandlerModuleError(f"unsupported WebAssembly binary version/layer {version.hex()}")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:4]) if lines else text


class Compiler:
    """Thread-safe; concurrent loads of one module compile it once."""

    def __init__(self, engine: wasmtime.Engine, disk: DiskCache) -> None:
        self._engine = engine
        self._disk = disk
        self._compiled: dict[str, Compiled] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def compile(self, data: bytes) -> Compiled:
        digest = hashlib.sha256(data).hexdigest()
        cached = self._compiled.get(digest)
        if cached is not None:
            self._disk.counters.bump("memory_hits")
            return cached
        with self._guard:
            lock = self._locks.setdefault(digest, threading.Lock())
        with lock:
            cached = self._compiled.get(digest)
            if cached is None:
                cached = self._load_or_compile(digest, data)
                self._compiled[digest] = cached
            else:
                self._disk.counters.bump("memory_hits")
        return cached

    def clear(self) -> None:
        with self._guard:
            self._compiled.clear()
            self._locks.clear()

    def _load_or_compile(self, digest: str, data: bytes) -> Compiled:
        binary = _binary(data)
        kind = _kind(binary)
        payload = self._disk.load(digest, kind)
        if payload is not None:
            try:
                artifact = self._deserialize(kind, payload)
                self._disk.counters.bump("disk_hits")
                return Compiled(digest, kind, artifact)
            except wasmtime.WasmtimeError:
                # Checksum fine but wasmtime refuses it (another build of wasmtime
                # with the same version string): rebuild.
                self._disk.discard(digest, kind)
        artifact = self._compile(kind, binary)
        self._disk.counters.bump("compiled")
        self._disk.store(digest, kind, bytes(artifact.serialize()))
        return Compiled(digest, kind, artifact)

    def _deserialize(self, kind: str, payload: bytes) -> wasmtime.Module | wc.Component:
        if kind == "module":
            return wasmtime.Module.deserialize(self._engine, payload)
        return wc.Component.deserialize(self._engine, payload)

    def _compile(self, kind: str, binary: bytes) -> wasmtime.Module | wc.Component:
        try:
            if kind == "module":
                return wasmtime.Module(self._engine, binary)
            return wc.Component(self._engine, binary)
        except wasmtime.WasmtimeError as exc:
            what = "module" if kind == "module" else "component"
            raise HandlerModuleError(f"cannot compile handler {what}: {_first_line(str(exc))}") from None
