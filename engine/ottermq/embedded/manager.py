"""The user's embedded server: one per data dir, shared by every command, outliving them.

Every decision starts from what is actually there: the socket answering PING
is the proof of a live server, the pidfile only a hint. A pid that is dead, or
alive but not a server on our socket (the pid was reused after a crash), is
stale and cleaned up; a server of ours that does not answer is never replaced,
because two servers on one AOF would corrupt it.
"""

from __future__ import annotations

import enum
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from ottermq.embedded.binary import find_server
from ottermq.embedded.layout import Layout, ServerState, locked
from ottermq.embedded.probe import Answer, info, ping
from ottermq.embedded.process import LOADING_TIMEOUT, STARTUP_TIMEOUT, ServerConfig, launch, pid_alive, stop_pid
from ottermq.errors import EmbeddedServerError
from ottermq.settings import Settings

__all__ = ["ServerStatus", "ensure_running", "status", "stop"]


class Found(enum.StrEnum):
    ABSENT = "absent"  # nothing there, or only stale files
    READY = "ready"
    LOADING = "loading"  # ours, answering LOADING while it reads the AOF
    STARTING = "starting"  # ours by its command line, not listening (yet, or any more)
    SILENT = "silent"  # ours, accepts connections but does not answer


@dataclass(frozen=True, slots=True)
class _Seen:
    found: Found
    pid: int | None


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """A running embedded server, as ``ottermq server status`` shows it."""

    pid: int
    url: str
    server: str  # "valkey" or "redis"
    version: str
    binary: str
    uptime_s: int
    used_memory: int
    used_memory_human: str
    data_dir: str
    started_at: str | None
    aof_enabled: bool
    loading: bool

    def to_json(self) -> dict[str, Any]:
        return {"running": True, **{name: getattr(self, name) for name in self.__dataclass_fields__}}


def ensure_running(settings: Settings, *, startup_timeout: float = STARTUP_TIMEOUT) -> str:
    """Return the URL of the data dir's server, starting it if no live one exists."""
    return ensure_running_verbose(settings, startup_timeout=startup_timeout)[0]


def ensure_running_verbose(settings: Settings, *, startup_timeout: float = STARTUP_TIMEOUT) -> tuple[str, bool]:
    """Like :func:`ensure_running`, also saying whether this call started it."""
    layout = Layout.of(settings.data_dir)
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    with locked(layout.lockfile):
        seen = _look(layout)
        if seen.found is Found.STARTING and seen.pid is not None:
            seen = _settle(layout, seen.pid, startup_timeout)
        if seen.found is Found.LOADING:
            _wait_loaded(layout)
        if seen.found in (Found.READY, Found.LOADING):
            return layout.endpoint.url, False
        if seen.found is Found.SILENT:
            raise EmbeddedServerError(_silent_message(layout, seen.pid))
        layout.clean()
        try:
            return _start(layout, settings, startup_timeout), True
        except BaseException:
            layout.clean()  # launch() killed the server; drop the pidfile it may have written
            raise


def status(settings: Settings) -> ServerStatus | None:
    """The live server of the data dir, or None when there is none."""
    layout = Layout.of(settings.data_dir)
    if not layout.data_dir.is_dir():
        return None
    seen = _look(layout)
    if seen.found is Found.ABSENT:
        return None
    if seen.found is Found.SILENT:
        raise EmbeddedServerError(_silent_message(layout, seen.pid))
    if seen.found is Found.STARTING:
        raise EmbeddedServerError(f"the embedded server (pid {seen.pid}) is starting or stopping; try again")
    try:
        facts = info(layout.endpoint)
    except redis.exceptions.RedisError as exc:
        raise EmbeddedServerError(f"the embedded server stopped answering: {exc}") from None
    return _status_from(layout, facts)


def stop(settings: Settings, timeout: float = 10.0) -> bool:
    """SIGTERM the data dir's server and wait for it (it fsyncs its AOF); False if none ran."""
    layout = Layout.of(settings.data_dir)
    if not layout.data_dir.is_dir():
        return False
    with locked(layout.lockfile):
        seen = _look(layout)
        if seen.found is Found.ABSENT:
            layout.clean()
            return False
        if seen.pid is None:
            raise EmbeddedServerError(f"a server answers on {layout.socket} but its pid is unknown; stop it by hand")
        stop_pid(seen.pid, timeout)
        layout.clean()
        return True


def _look(layout: Layout) -> _Seen:
    answer = ping(layout.endpoint) if layout.socket.exists() else Answer.REFUSED
    if answer in (Answer.READY, Answer.LOADING, Answer.ERROR):
        # Whatever answers on our socket is a live server (ERROR: one that wants a
        # password someone set); its own pid beats the pidfile's.
        pid = _answering_pid(layout) or layout.read_pid()
        return _Seen(Found.LOADING if answer is Answer.LOADING else Found.READY, pid)
    pid = layout.read_pid()
    if pid is None or not pid_alive(pid) or not _is_our_server(pid, layout.socket):
        return _Seen(Found.ABSENT, None)
    if answer is Answer.SILENT:
        return _Seen(Found.SILENT, pid)
    return _Seen(Found.STARTING, pid)


def _settle(layout: Layout, pid: int, timeout: float) -> _Seen:
    """A server of ours that is not listening: wait for it to come up or go away."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = _look(layout)
        if seen.found is not Found.STARTING:
            return seen
        time.sleep(0.02)
    raise EmbeddedServerError(
        f"the embedded server (pid {pid}) neither answers on {layout.socket} nor exits;"
        " stop it with `ottermq server stop` and look at its log in " + str(layout.logfile)
    )


def _start(layout: Layout, settings: Settings, startup_timeout: float) -> str:
    binary = find_server(settings.redis_server)
    config = ServerConfig(
        binary=binary,
        directory=layout.redis_dir,
        endpoint=layout.endpoint,
        pidfile=layout.pidfile,
        logfile=layout.logfile,
        appendonly=True,
        appendfsync="everysec",
        detach=True,
    )
    pid = launch(config, startup_timeout)
    ServerState(
        pid=pid,
        socket=str(layout.socket),
        url=layout.endpoint.url,
        binary=str(binary.path),
        version=binary.label,
        started_at=ServerState.now(),
    ).write(layout.statefile)
    return layout.endpoint.url


def _wait_loaded(layout: Layout) -> None:
    deadline = time.monotonic() + LOADING_TIMEOUT
    while (answer := ping(layout.endpoint)) is Answer.LOADING and time.monotonic() < deadline:
        time.sleep(0.05)
    if answer is not Answer.READY:
        raise EmbeddedServerError(
            f"the embedded server did not finish loading its data ({answer}); see {layout.logfile}"
        )


def _answering_pid(layout: Layout) -> int | None:
    try:
        return int(info(layout.endpoint)["process_id"])
    except (redis.exceptions.RedisError, KeyError, ValueError):
        return None


def _is_our_server(pid: int, socket: Path) -> bool:
    """Whether ``pid`` is a server bound to our socket: Redis and Valkey put it in their process title."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        raw = _ps_command(pid)
    except OSError:
        return False
    return str(socket) in raw


def _ps_command(pid: int) -> str:
    # No /proc (macOS): ps shows the rewritten process title too.
    try:
        done = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout


def _silent_message(layout: Layout, pid: int | None) -> str:
    return (
        f"the embedded server (pid {pid}) accepts connections on {layout.socket} but does not answer;"
        f" it may be stopped or overloaded. `ottermq server stop` asks it to exit; its log is {layout.logfile}"
    )


def _status_from(layout: Layout, facts: dict[str, Any]) -> ServerStatus:
    state = ServerState.read(layout.statefile)
    name = str(facts.get("server_name") or "redis")
    version = str(facts.get(f"{name}_version") or facts.get("redis_version") or "unknown")
    return ServerStatus(
        pid=int(facts["process_id"]),
        url=layout.endpoint.url,
        server=name,
        version=version,
        binary=str(facts.get("executable") or (state.binary if state else "unknown")),
        uptime_s=int(facts.get("uptime_in_seconds", 0)),
        used_memory=int(facts.get("used_memory", 0)),
        used_memory_human=str(facts.get("used_memory_human", "")),
        data_dir=str(layout.data_dir),
        started_at=state.started_at if state else None,
        aof_enabled=bool(int(facts.get("aof_enabled", 0))),
        loading=bool(int(facts.get("loading", 0))),
    )
