"""Start, watch and stop one server process.

Servers are spawned with ``posix_spawn`` rather than ``subprocess.Popen``: a
detached server must outlive the command that started it, and a ``Popen``
object dropped while its child still runs would warn and later reap it behind
our back. Whoever started a server reaps it through :func:`pid_alive`, so a
server that dies while its starter lives does not linger as a zombie that
still "exists" to ``kill(pid, 0)``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ottermq.embedded.binary import ServerBinary
from ottermq.embedded.probe import Answer, Endpoint, ping
from ottermq.errors import EmbeddedServerError

__all__ = [
    "ServerConfig",
    "free_port",
    "launch",
    "log_tail",
    "pid_alive",
    "socket_path_for",
    "wait_gone",
]

# sun_path holds 108 bytes on Linux and 104 on macOS, the terminating NUL included.
MAX_SOCKET_PATH = 100
STARTUP_TIMEOUT = 5.0
# An AOF being loaded answers LOADING; a large one may take far longer than a cold start.
LOADING_TIMEOUT = 300.0
FSYNC_POLICIES = ("always", "everysec", "no")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything needed to (re)start one server the same way."""

    binary: ServerBinary
    directory: Path  # the server's --dir: AOF and nodes.conf live here
    endpoint: Endpoint
    pidfile: Path
    logfile: Path
    appendonly: bool = True
    appendfsync: str = "everysec"
    extra_args: tuple[str, ...] = ()
    # A detached server gets its own session, so Ctrl-C in the terminal that
    # started it and the end of that command leave it running.
    detach: bool = False

    def argv(self) -> list[str]:
        args = [
            str(self.binary.path),
            "--port", str(self.endpoint.port),
            "--dir", str(self.directory),
            "--daemonize", "no",
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.logfile),
            # AOF is the durability story; RDB snapshots would only cost CPU.
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", self.appendfsync,
        ]  # fmt: skip
        if self.endpoint.port:
            args += ["--bind", self.endpoint.host]
        if self.endpoint.socket is not None:
            args += ["--unixsocket", str(self.endpoint.socket), "--unixsocketperm", "700"]
        return args + list(self.extra_args)


def socket_path_for(directory: Path, name: str = "redis.sock") -> Path:
    """``directory/name``, or a short per-user path when that is too long for a unix socket."""
    path = directory.resolve() / name
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(path)).hexdigest()[:16]
    return _short_socket_dir() / f"{digest}.sock"


def ensure_socket_dir(path: Path) -> None:
    """Create the socket's directory; the shared fallback one must be private to us."""
    if path.parent != _short_socket_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    path.parent.mkdir(mode=0o700, exist_ok=True)
    st = path.parent.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise EmbeddedServerError(
            f"{path.parent} must be owned by you and private (mode 700) to hold the server socket"
        )


def _short_socket_dir() -> Path:
    base = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    return base / f"ottermq-{os.getuid()}"


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (callers retry on a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs; reaps it first when it is our own exited child."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child: kill(pid, 0) is the only test left
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but somebody else's
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # A server orphaned by the command that started it is reaped by init, and
    # some container inits reap late or never: until then it exists, as a zombie.
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False  # no /proc (macOS, where launchd reaps at once), or just gone
    end = raw.rfind(b")")  # the command name may itself contain ")"
    state = raw[end + 2 : end + 3]
    return state in (b"Z", b"X")


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    delay = 0.002
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True


def log_tail(path: Path, lines: int = 15, offset: int = 0) -> str:
    """The last ``lines`` of a server log written after byte ``offset``, indented for an error message."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return "  (no server log)"
    tail = text.strip().splitlines()[-lines:]
    return "\n".join(f"  | {line}" for line in tail) if tail else "  (the server wrote nothing)"


def spawn(config: ServerConfig) -> int:
    config.logfile.parent.mkdir(parents=True, exist_ok=True)
    config.directory.mkdir(parents=True, exist_ok=True)
    if config.endpoint.socket is not None:
        ensure_socket_dir(config.endpoint.socket)
    # Fatal config errors go to stderr before the server opens its log file.
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(config.logfile), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    argv = config.argv()
    try:
        return os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=actions, setsid=config.detach)
    except OSError as exc:
        raise EmbeddedServerError(f"cannot start {argv[0]}: {exc.strerror}") from None


def launch(config: ServerConfig, startup_timeout: float = STARTUP_TIMEOUT) -> int:
    """Spawn a server and return its pid once it answers PING; never leaves a half-started one."""
    started_at = os.path.getsize(config.logfile) if config.logfile.exists() else 0
    pid = spawn(config)
    try:
        wait_ready(config.endpoint, pid, startup_timeout)
    except EmbeddedServerError as exc:
        _kill_child(pid)
        raise EmbeddedServerError(f"{exc}; server log:\n{log_tail(config.logfile, offset=started_at)}") from None
    except BaseException:
        _kill_child(pid)  # Ctrl-C or a bug while waiting: never leave a half-started server
        raise
    return pid


def _kill_child(pid: int) -> None:
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid, 5.0)


def launch_on_free_ports(make: Callable[[], ServerConfig], attempts: int = 3) -> tuple[ServerConfig, int]:
    """Launch with ports picked by ``make``; pick again if another process took them first."""
    for attempt in range(attempts):
        config = make()
        try:
            return config, launch(config)
        except EmbeddedServerError as exc:
            if "already in use" not in str(exc) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def wait_ready(endpoint: Endpoint, pid: int, timeout: float = STARTUP_TIMEOUT) -> None:
    start = time.monotonic()
    delay = 0.002
    while True:
        answer = ping(endpoint, timeout=0.5)
        if answer in (Answer.READY, Answer.ERROR):
            return  # ERROR: it answers, but wants a password (e.g. started with --requirepass)
        if not pid_alive(pid):
            raise EmbeddedServerError(f"the server (pid {pid}) exited during startup")
        elapsed = time.monotonic() - start
        limit = LOADING_TIMEOUT if answer is Answer.LOADING else timeout
        if elapsed >= limit:
            raise EmbeddedServerError(
                f"the server (pid {pid}) did not answer PING on {endpoint.url} within {limit:g} s ({answer})"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def stop_pid(pid: int, timeout: float) -> None:
    """SIGTERM and wait, so the server fsyncs its AOF; EmbeddedServerError if it hangs on."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not wait_gone(pid, timeout):
        raise EmbeddedServerError(
            f"the server (pid {pid}) did not stop within {timeout:g} s after SIGTERM;"
            f" if it is stuck, `kill -9 {pid}` ends it (writes of the last second may be lost)"
        )


def kill_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_gone(pid, 5.0)
