"""Helpers for the launcher tests: data dirs whose server never outlives the test."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ottermq import embedded
from ottermq.embedded.layout import Layout
from ottermq.errors import EmbeddedServerError
from ottermq.settings import Settings
from redis_fixtures import ServerReaper


def _server_pids(socket: Path) -> list[int]:
    """Every live process whose command line names ``socket``: servers listening there."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"unixsocket:{socket}" in cmdline:
            found.append(int(entry.name))
    return found


class DataDirServer:
    """The embedded server of one data dir, in the shape the session reaper expects."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.socket = Layout.of(settings.data_dir).socket

    def stop(self) -> None:
        with contextlib.suppress(EmbeddedServerError):
            embedded.stop(self.settings, timeout=5)
        self.kill()  # whatever the test left stopped (SIGSTOP) or hung

    def kill(self) -> None:
        for pid in _server_pids(self.socket):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def server_pids() -> Callable[[Path], list[int]]:
    """``server_pids(socket)``: the pids of every live server listening on ``socket``."""
    return _server_pids


@pytest.fixture
def settings_for(server_reaper: ServerReaper) -> Iterator[Callable[[Path], Settings]]:
    """``settings_for(data_dir)``: settings on that data dir, whose server is stopped after the test."""
    servers: list[DataDirServer] = []

    def make(data_dir: Path) -> Settings:
        settings = Settings(data_dir=data_dir)
        servers.append(DataDirServer(settings))
        server_reaper.own(servers[-1])
        return settings

    try:
        yield make
    finally:
        for server in servers:
            server_reaper.release(server)


@pytest.fixture
def settings(tmp_path: Path, settings_for: Callable[[Path], Settings]) -> Settings:
    """Settings on a data dir private to the test."""
    return settings_for(tmp_path / "data")
