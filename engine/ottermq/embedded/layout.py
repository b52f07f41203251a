"""Where the embedded server's files live under the data dir, and its state file."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ottermq.embedded.probe import Endpoint
from ottermq.embedded.process import socket_path_for
from ottermq.errors import EmbeddedServerError

__all__ = ["Layout", "ServerState", "locked"]

LOCK_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Layout:
    """The files of the embedded server of one data dir (always an absolute path)."""

    data_dir: Path

    @classmethod
    def of(cls, data_dir: Path) -> Layout:
        return cls(data_dir.expanduser().resolve())

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def logfile(self) -> Path:
        return self.data_dir / "logs" / "redis.log"

    @property
    def lockfile(self) -> Path:
        return self.data_dir / "server.lock"

    @property
    def statefile(self) -> Path:
        return self.data_dir / "server.json"

    @property
    def socket(self) -> Path:
        return socket_path_for(self.data_dir)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(socket=self.socket)

    def read_pid(self) -> int | None:
        """The server's own pidfile first; our state file if the pidfile is gone."""
        try:
            return int(self.pidfile.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            pass
        state = ServerState.read(self.statefile)
        return state.pid if state else None

    def clean(self) -> None:
        """Remove what a dead server left behind."""
        for path in (self.pidfile, self.socket, self.statefile):
            path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class ServerState:
    """``server.json``: what we started, so later commands and humans can find it."""

    pid: int
    socket: str
    url: str
    binary: str
    version: str
    started_at: str  # ISO 8601, UTC

    @staticmethod
    def now() -> str:
        return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def write(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> ServerState | None:
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except (OSError, ValueError, KeyError, TypeError):
            return None


@contextlib.contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """An exclusive flock, so two commands never check-and-start at the same time.

    The lock dies with the process holding it, so a crashed command cannot leave
    it stuck; the descriptor is close-on-exec, so the server never inherits it.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise EmbeddedServerError(
                        f"another ottermq command has held {path} for {timeout:g} s; is it stuck?"
                    ) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)
