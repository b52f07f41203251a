"""Private servers (`start_private`): the lower-level API the fixtures use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from ottermq.embedded import ServerBinary, ServerProcess, start_private
from ottermq.embedded.process import pid_alive
from ottermq.errors import EmbeddedServerError


def test_a_server_that_cannot_start_reports_its_log_and_leaves_nothing(
    tmp_path: Path, redis_binary: ServerBinary
) -> None:
    with pytest.raises(EmbeddedServerError) as caught:
        start_private(tmp_path / "bad", binary=redis_binary, extra_args=("--no-such-directive", "1"))
    message = str(caught.value)
    assert "exited during startup" in message
    assert "no-such-directive" in message  # the line of the server log that says why
    assert not (tmp_path / "bad" / "redis.pid").exists()


def test_tcp_restart_keeps_port_and_data(tmp_path: Path, redis_binary: ServerBinary) -> None:
    with start_private(tmp_path / "tcp", unix_socket=False, binary=redis_binary) as server:
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        port, pid = server.port, server.pid
        server.restart()
        assert server.port == port and server.pid != pid and not pid_alive(pid)
        assert client.get("k") == b"v"
        client.close()
    assert not server.is_alive()


def test_without_aof_a_restart_starts_empty(tmp_path: Path, redis_binary: ServerBinary) -> None:
    with start_private(tmp_path / "volatile", appendonly=False, binary=redis_binary) as server:
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        server.restart()
        assert client.get("k") is None
        client.close()


def test_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="appendfsync"):
        start_private(tmp_path, appendfsync="sometimes")
    with pytest.raises(ValueError, match="TCP port"):
        start_private(tmp_path, unix_socket=False, port=0)


def test_a_server_with_a_password_counts_as_started(redis_factory: Callable[..., ServerProcess]) -> None:
    server = redis_factory(appendonly=False, extra_args=("--requirepass", "s3cret"))
    anonymous = redis.Redis.from_url(server.url)
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.ping()
    anonymous.close()
    authenticated = redis.Redis.from_url(server.url.replace("unix://", "unix://:s3cret@"))
    assert authenticated.ping()
    authenticated.close()
