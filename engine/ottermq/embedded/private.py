"""Private servers owned by one Python object: the test suite's and the benchmarks' servers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from ottermq.embedded.binary import ServerBinary, find_server
from ottermq.embedded.probe import Endpoint
from ottermq.embedded.process import (
    FSYNC_POLICIES,
    ServerConfig,
    free_port,
    kill_pid,
    launch,
    launch_on_free_ports,
    pid_alive,
    socket_path_for,
    stop_pid,
)
from ottermq.errors import EmbeddedServerError

__all__ = ["ServerProcess", "start_private"]


class ServerProcess:
    """A running server and the recipe to start it again on the same dir, socket and port."""

    def __init__(self, config: ServerConfig, pid: int) -> None:
        self.config = config
        self.pid = pid

    def __repr__(self) -> str:
        return f"ServerProcess(pid={self.pid}, url={self.url!r})"

    @property
    def url(self) -> str:
        return self.config.endpoint.url

    @property
    def endpoint(self) -> Endpoint:
        return self.config.endpoint

    @property
    def port(self) -> int:
        return self.config.endpoint.port

    def is_alive(self) -> bool:
        return pid_alive(self.pid)

    # Both check liveness first: for our own child that also reaps it, and a
    # reaped pid may already belong to an unrelated process.
    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait: the server fsyncs its AOF before exiting."""
        if self.is_alive():
            stop_pid(self.pid, timeout)

    def kill(self) -> None:
        """SIGKILL, like a crash: only what already reached the AOF file survives."""
        if self.is_alive():
            kill_pid(self.pid)

    def restart(self, timeout: float = 10.0) -> None:
        """Stop (if running) and start again with the same files; AOF data comes back."""
        if self.is_alive():
            self.stop(timeout)
        self.pid = launch(self.config)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.stop()
        except EmbeddedServerError:
            self.kill()


def start_private(
    directory: Path,
    *,
    unix_socket: bool = True,
    port: int | None = None,
    appendonly: bool = True,
    appendfsync: str = "everysec",
    extra_args: Sequence[str] = (),
    binary: ServerBinary | None = None,
    detach: bool = False,
) -> ServerProcess:
    """Start a server whose files all live in ``directory``.

    With ``unix_socket`` it listens on ``directory/redis.sock`` (or a short
    fallback path) and, unless ``port`` is given, on no TCP port. Without it,
    it listens on ``port`` or on a free loopback port. The server stays in our
    process group unless ``detach``, so Ctrl-C on the test run reaches it too.
    ``extra_args`` are appended to the command line; later directives win.
    """
    if appendfsync not in FSYNC_POLICIES:
        raise ValueError(f"appendfsync must be one of {', '.join(FSYNC_POLICIES)}")
    if not unix_socket and port == 0:
        raise ValueError("a server without a unix socket needs a TCP port")
    directory = directory.resolve()
    server = binary or find_server()
    socket = socket_path_for(directory) if unix_socket else None

    def make(chosen_port: int) -> ServerConfig:
        return ServerConfig(
            binary=server,
            directory=directory,
            endpoint=Endpoint(socket=socket, port=chosen_port),
            pidfile=directory / "redis.pid",
            logfile=directory / "redis.log",
            appendonly=appendonly,
            appendfsync=appendfsync,
            # The server acts on SIGTERM in its 1/hz cron: 10 ms instead of 100 per restart.
            extra_args=("--hz", "100", *extra_args),
            detach=detach,
        )

    if port is not None or unix_socket:
        config = make(port or 0)
        return ServerProcess(config, launch(config))
    config, pid = launch_on_free_ports(lambda: make(free_port()))
    return ServerProcess(config, pid)
