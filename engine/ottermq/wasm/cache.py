"""Precompiled modules on disk, keyed by module digest, engine fingerprint and artifact kind.

An entry is a small header followed by wasmtime's serialized artifact::

    magic (14 bytes) | payload length (u64 LE) | sha256(payload) (32 bytes) | payload

Entries are written to a temporary file and renamed into place, so readers never
see half an entry. A short, truncated or altered entry fails the length or checksum
test and is deleted, and the caller compiles the module again. Deserializing runs
native code produced by the compiler, so the cache directory must be as trusted as
the OtterMQ installation itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CacheStats", "DiskCache", "MAGIC"]

log = logging.getLogger("ottermq.wasm")

MAGIC = b"OTTERMQ-CWASM\x01"
_HEADER = struct.Struct(f"<{len(MAGIC)}sQ32s")


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of the module caches since the runtime started."""

    compiled: int = 0  # modules compiled from source
    memory_hits: int = 0  # loads served from the in-memory cache
    disk_hits: int = 0  # loads served from a precompiled entry on disk
    rebuilt: int = 0  # disk entries found corrupt or stale, deleted and rebuilt


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = {"compiled": 0, "memory_hits": 0, "disk_hits": 0, "rebuilt": 0}

    def bump(self, name: str) -> None:
        with self._lock:
            self._values[name] += 1

    def snapshot(self) -> CacheStats:
        with self._lock:
            return CacheStats(**self._values)


class DiskCache:
    """A directory of precompiled artifacts; ``directory=None`` disables it."""

    def __init__(self, directory: Path | None, fingerprint: str) -> None:
        self.directory = directory
        self.fingerprint = fingerprint
        self.counters = _Counters()

    def path_for(self, digest: str, kind: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"{digest}-{self.fingerprint}.{kind}.cwasm"

    def load(self, digest: str, kind: str) -> bytes | None:
        """The verified payload of an entry, or None when there is no usable entry."""
        path = self.path_for(digest, kind)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read module cache entry %s: %s", path, exc)
            return None
        payload = _verify(data)
        if payload is None:
            log.warning("module cache entry %s is corrupt; rebuilding it", path)
            self.discard(digest, kind)
            return None
        return payload

    def discard(self, digest: str, kind: str) -> None:
        """Delete an entry that failed verification or deserialization."""
        path = self.path_for(digest, kind)
        if path is None:
            return
        self.counters.bump("rebuilt")
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("cannot delete corrupt module cache entry %s: %s", path, exc)

    def store(self, digest: str, kind: str, payload: bytes) -> None:
        """Write an entry atomically; a cache that cannot be written only costs speed."""
        path = self.path_for(digest, kind)
        if path is None:
            return
        header = _HEADER.pack(MAGIC, len(payload), hashlib.sha256(payload).digest())
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(header)
                    fh.write(payload)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("cannot write module cache entry %s: %s", path, exc)


def _verify(data: bytes) -> bytes | None:
    if len(data) < _HEADER.size:
        return None
    magic, length, checksum = _HEADER.unpack_from(data)
    payload = data[_HEADER.size :]
    if magic != MAGIC or length != len(payload):
        return None
    if hashlib.sha256(payload).digest() != checksum:
        return None
    return payload
