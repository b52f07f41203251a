"""The WASI side of the sandbox: granted capabilities, captured stdio, stdin from bytes.

A handler sees nothing of the host unless its spec grants it: no environment
variable, no directory, no inherited stdin/stdout/stderr, no sockets (we never call
``inherit_network``). The same configuration serves WASI preview 1 (commands, core
modules built with wasi-libc) and preview 2 (components), because wasmtime builds
both from one ``WasiConfig``.

Stdio stays in memory: stdin from bytes, stdout and stderr through callbacks. For a
small command that measured about 3,500 calls/s against 2,000-2,700 with files on
/dev/shm, and only a callback can refuse output past the limit as it is written (a
file would fill up first).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import wasmtime

from ottermq.errors import ConfigError
from ottermq.wasm.model import SandboxSpec

__all__ = ["LogSink", "OutputSink", "build_wasi", "check_dir_grants"]

# Every guest sees this as argv[0]; programs that print usage read it.
GUEST_ARGV0 = "handler"


class OutputSink:
    """Collects a command's stdout up to a cap; past the cap writes fail with EFBIG.

    wasmtime calls the sink from its own I/O threads, in chunks, and finishes
    every write before the guest's ``fd_write`` returns.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.overflowed = False
        self._buf = bytearray()
        self._lock = threading.Lock()

    def write(self, chunk: bytes) -> int:
        with self._lock:
            if len(self._buf) + len(chunk) > self.max_bytes:
                self.overflowed = True
                return -errno.EFBIG
            self._buf += chunk
            return len(chunk)

    def getvalue(self) -> bytes:
        with self._lock:
            return bytes(self._buf)

    def reset(self) -> None:
        with self._lock:
            self._buf.clear()
            self.overflowed = False


class LogSink:
    """Keeps the last ``max_bytes`` of what the guest logs; the tail explains a failure best."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.dropped = 0
        self._buf = bytearray()
        self._lock = threading.Lock()

    def write(self, chunk: bytes) -> int:
        with self._lock:
            self._buf += chunk
            # Trim in batches so a chatty guest costs amortised O(1) per byte.
            if len(self._buf) > 2 * self.max_bytes:
                cut = len(self._buf) - self.max_bytes
                del self._buf[:cut]
                self.dropped += cut
        return len(chunk)

    def text(self) -> str:
        with self._lock:
            data = bytes(self._buf)
            dropped = self.dropped
        if len(data) > self.max_bytes:
            dropped += len(data) - self.max_bytes
            data = data[len(data) - self.max_bytes :]
        text = data.decode("utf-8", errors="replace")
        if dropped:
            return f"[... {dropped} earlier bytes of log output dropped ...]\n{text}"
        return text

    def reset(self) -> None:
        with self._lock:
            self._buf.clear()
            self.dropped = 0


def check_dir_grants(spec: SandboxSpec) -> None:
    """Refuse grants of directories that do not exist, before any call is made."""
    for grant in spec.dirs:
        if not Path(grant.host).is_dir():
            raise ConfigError(f"granted directory {grant.host} does not exist or is not a directory")
        if not grant.guest.startswith("/"):
            raise ConfigError(f"guest path {grant.guest!r} must be absolute, e.g. /data")


def build_wasi(
    spec: SandboxSpec,
    environ: Mapping[str, str],
    *,
    log: LogSink,
    stdin: bytes | None = None,
    stdout: OutputSink | None = None,
) -> wasmtime.WasiConfig:
    """A WasiConfig with exactly the spec's grants.

    ``stdout=None`` sends the guest's stdout to the log (core modules and
    components answer through their return value, so stdout is only logging).
    """
    wasi = wasmtime.WasiConfig()
    wasi.argv = [GUEST_ARGV0]
    wasi.env = [(name, environ[name]) for name in spec.env if name in environ]
    for grant in spec.dirs:
        wasi.preopen_dir(str(Path(grant.host).resolve()), grant.guest, not grant.read_only)
    if stdin is not None:
        _set_stdin(wasi, stdin)
    wasi.stdout_custom = (stdout or log).write
    wasi.stderr_custom = log.write
    return wasi


def _set_stdin(wasi: wasmtime.WasiConfig, data: bytes) -> None:
    setter = _stdin_bytes_setter()
    if setter is not None:
        setter(wasi, data)
        return
    # The file is opened by the setter, so it can be unlinked at once.
    fd, path = tempfile.mkstemp(prefix="ottermq-stdin-", dir=_tmpfs_dir())
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        wasi.stdin_file = path
    finally:
        os.unlink(path)


def _tmpfs_dir() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@functools.cache
def _stdin_bytes_setter() -> Any:
    """``wasi_config_set_stdin_bytes`` from wasmtime-py's private bindings, if present.

    It is not part of the public Python API (pinned: wasmtime>=50,<51), and it is
    measurably cheaper than a temporary file; without it we fall back to a file.
    """
    try:
        from wasmtime import _ffi as ffi

        raw_setter = ffi.wasi_config_set_stdin_bytes
        to_vec = ffi.bytes_to_capi
    except (ImportError, AttributeError):
        return None

    def setter(wasi: wasmtime.WasiConfig, data: bytes) -> None:
        vec = to_vec(data)  # the config takes ownership of the vector's contents
        raw_setter(wasi.ptr(), ctypes.byref(vec))

    return setter
