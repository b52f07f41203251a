"""The user's embedded server: start, reuse, stop, crash recovery, concurrent starters."""

from __future__ import annotations

import json
import os
import signal
import socket as socketlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from ottermq import embedded
from ottermq.embedded.layout import Layout, ServerState
from ottermq.embedded.process import MAX_SOCKET_PATH, pid_alive, wait_gone
from ottermq.errors import EmbeddedServerError
from ottermq.settings import Settings


def _crash(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    assert wait_gone(pid, 5)


def _leave_dead_socket(path: Path) -> None:
    """A socket file nobody listens on, as a crashed server leaves it."""
    sock = socketlib.socket(socketlib.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    assert path.exists()


def test_start_reuse_stop(settings: Settings, server_pids: Callable[[Path], list[int]]) -> None:
    layout = Layout.of(settings.data_dir)
    url, started = embedded.ensure_running_verbose(settings)
    assert started and url == f"unix://{layout.socket}"
    assert embedded.ensure_running_verbose(settings) == (url, False)

    status = embedded.status(settings)
    assert status is not None
    assert status.url == url and pid_alive(status.pid) and status.aof_enabled
    assert status.data_dir == str(layout.data_dir)
    assert int(layout.pidfile.read_text()) == status.pid
    state = json.loads(layout.statefile.read_text())
    assert state["pid"] == status.pid and state["url"] == url and state["socket"] == str(layout.socket)
    assert server_pids(layout.socket) == [status.pid]

    assert embedded.stop(settings) is True
    assert not pid_alive(status.pid)
    assert embedded.status(settings) is None
    assert not layout.pidfile.exists() and not layout.socket.exists() and not layout.statefile.exists()
    assert embedded.stop(settings) is False


def test_status_and_stop_on_a_missing_data_dir_create_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "never-used")
    assert embedded.status(settings) is None
    assert embedded.stop(settings) is False
    assert not settings.data_dir.exists()


def test_crashed_server_leaves_files_that_the_next_start_cleans(
    settings: Settings, server_pids: Callable[[Path], list[int]]
) -> None:
    layout = Layout.of(settings.data_dir)
    url = embedded.ensure_running(settings)
    old_pid = int(layout.pidfile.read_text())
    _crash(old_pid)
    assert layout.pidfile.exists() and layout.socket.exists()  # what SIGKILL leaves behind
    assert embedded.status(settings) is None

    assert embedded.ensure_running_verbose(settings) == (url, True)
    new_pid = int(layout.pidfile.read_text())
    assert new_pid != old_pid and server_pids(layout.socket) == [new_pid]


def test_pidfile_naming_a_live_process_that_is_not_our_server(settings: Settings) -> None:
    layout = Layout.of(settings.data_dir)
    layout.data_dir.mkdir(parents=True)
    # The pid was reused by an unrelated process (here: this test run itself).
    layout.pidfile.write_text(f"{os.getpid()}\n")
    _leave_dead_socket(layout.socket)
    assert embedded.status(settings) is None
    assert embedded.stop(settings) is False  # and, above all, we are still alive

    _, started = embedded.ensure_running_verbose(settings)
    assert started and int(layout.pidfile.read_text()) != os.getpid()


def test_stale_socket_without_pidfile(settings: Settings) -> None:
    layout = Layout.of(settings.data_dir)
    layout.data_dir.mkdir(parents=True)
    _leave_dead_socket(layout.socket)
    url, started = embedded.ensure_running_verbose(settings)
    assert started
    client = redis.Redis.from_url(url)
    assert client.ping()
    client.close()


def test_a_server_that_stops_answering_is_never_replaced(
    settings: Settings, server_pids: Callable[[Path], list[int]]
) -> None:
    layout = Layout.of(settings.data_dir)
    embedded.ensure_running(settings)
    pid = int(layout.pidfile.read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(EmbeddedServerError, match="does not answer"):
            embedded.ensure_running(settings)
        assert server_pids(layout.socket) == [pid]
    finally:
        os.kill(pid, signal.SIGCONT)
    assert embedded.stop(settings) is True


def test_server_that_answers_without_a_pidfile_is_adopted(settings: Settings) -> None:
    layout = Layout.of(settings.data_dir)
    embedded.ensure_running(settings)
    pid = int(layout.pidfile.read_text())
    layout.pidfile.unlink()
    layout.statefile.unlink()
    assert embedded.ensure_running_verbose(settings)[1] is False
    status = embedded.status(settings)
    assert status is not None and status.pid == pid
    assert embedded.stop(settings) is True and not pid_alive(pid)


CHILD = """
import json, pathlib, sys, time
from ottermq.embedded import ensure_running_verbose, status
from ottermq.settings import Settings
print("ready", flush=True)
gate = pathlib.Path(sys.argv[2])
while not gate.exists():
    time.sleep(0.001)
settings = Settings(data_dir=pathlib.Path(sys.argv[1]))
url, started = ensure_running_verbose(settings)
print(json.dumps({"url": url, "started": started, "pid": status(settings).pid}))
"""


def test_two_processes_starting_at_once_share_one_server(
    settings: Settings, tmp_path: Path, server_pids: Callable[[Path], list[int]]
) -> None:
    gate = tmp_path / "go"
    argv = [sys.executable, "-c", CHILD, str(settings.data_dir), str(gate)]
    children = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        gate.touch()
        results = [json.loads(child.communicate(timeout=20)[0]) for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()
    assert sorted(r["started"] for r in results) == [False, True]
    assert results[0]["url"] == results[1]["url"] and results[0]["pid"] == results[1]["pid"]
    assert server_pids(Layout.of(settings.data_dir).socket) == [results[0]["pid"]]


def test_data_survives_stop_and_start(settings: Settings) -> None:
    url = embedded.ensure_running(settings)
    client = redis.Redis.from_url(url)
    client.set("kept", "yes")
    client.rpush("list", "a", "b")
    client.close()
    assert embedded.stop(settings)
    assert (settings.data_dir / "redis" / "appendonlydir").is_dir()

    client = redis.Redis.from_url(embedded.ensure_running(settings))
    assert client.get("kept") == b"yes" and client.lrange("list", 0, -1) == [b"a", b"b"]
    client.close()


def test_data_dir_too_deep_for_a_unix_socket_uses_a_short_path(
    tmp_path: Path, settings_for: Callable[[Path], Settings]
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    settings = settings_for(deep)
    layout = Layout.of(deep)
    assert len(os.fsencode(deep / "redis.sock")) > MAX_SOCKET_PATH
    url = embedded.ensure_running(settings)
    assert layout.socket.parent == Path(f"/tmp/ottermq-{os.getuid()}")
    assert url == f"unix://{layout.socket}"
    state = ServerState.read(layout.statefile)
    assert state is not None and state.socket == str(layout.socket)
    assert (layout.socket.parent.stat().st_mode & 0o777) == 0o700
    client = redis.Redis.from_url(url)
    assert client.ping()
    client.close()
    assert embedded.stop(settings) and not layout.socket.exists()


def test_an_unusable_configured_binary_fails_clearly_and_starts_nothing(settings: Settings) -> None:
    broken = Settings(data_dir=settings.data_dir, redis_server=str(settings.data_dir / "missing-redis-server"))
    with pytest.raises(EmbeddedServerError, match=r"configured redis_server.*no such file"):
        embedded.ensure_running(broken)
    assert embedded.status(settings) is None
