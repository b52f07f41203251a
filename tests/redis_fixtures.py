"""Redis servers for the test suite: real servers, started by OtterMQ's own launcher.

Loaded as a pytest plugin by ``tests/conftest.py``, so every test can ask for:

``redis_server`` (session)
    :class:`RedisServer` with ``.url`` and ``.process``: a private server on a unix
    socket in a temp dir (AOF off, for speed), stopped at the end of the session.
    If ``OTTERMQ_TEST_REDIS_URL`` is set, that server is used instead (``.process``
    is None) -- it must be a throwaway server: every test flushes it.
``redis_url`` (function)
    The URL of ``redis_server`` after ``FLUSHALL``: each test starts empty.
``redis_client`` (function)
    A ``redis.Redis`` on ``redis_url`` with ``decode_responses=False``, closed afterwards.
``durable_redis`` (function)
    A :class:`ottermq.embedded.ServerProcess` of its own (AOF on, ``appendfsync
    everysec``, own dir) that the test may ``.restart()`` (SIGTERM, same files)
    or ``.kill()`` (SIGKILL, like a crash) and restart again.
``redis_factory`` (function)
    ``redis_factory(**start_private_kwargs) -> ServerProcess``: more private servers
    (e.g. over TCP with ``unix_socket=False``), each in its own dir, all stopped after the test.
``redis_cluster`` (session, started on first use)
    :class:`ottermq.embedded.ClusterProcess`: 3 masters on loopback with ``.url``
    (``redis://127.0.0.1:PORT``), ``.startup_nodes`` (``ClusterNode`` list for
    ``RedisCluster``), ``.addresses`` and ``.nodes``.
``cluster_url`` (function)
    ``redis_cluster.url`` after ``FLUSHALL`` on every master.
``redis_binary`` (session)
    The :class:`ottermq.embedded.ServerBinary` every private server uses
    (``OTTERMQ_REDIS_SERVER`` picks another, e.g. a Redis 7.0 from apt).
``server_reaper`` (session)
    :class:`ServerReaper`: ``.own(x)`` makes sure ``x.kill()`` runs at session
    end if the test or fixture that started ``x`` could not stop it.

Tests that use ``redis_cluster`` or ``cluster_url`` get the ``cluster`` marker
automatically, so ``pytest -m "not cluster"`` skips the cluster start-up.

Servers run under ``<basetemp>/redis-<worker>/`` (one tree per pytest-xdist
worker). Every server is stopped by its fixture; whatever survives a failing
fixture is SIGKILLed at session end and again at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import redis

from ottermq.embedded import (
    ClusterProcess,
    ServerBinary,
    ServerProcess,
    find_server,
    start_cluster,
    start_private,
)
from ottermq.errors import EmbeddedServerError

__all__ = ["RedisServer", "ServerReaper", "Stoppable"]

EXTERNAL_URL_VARIABLE = "OTTERMQ_TEST_REDIS_URL"
CLUSTER_FIXTURES = frozenset({"redis_cluster", "cluster_url"})


@dataclass(frozen=True, slots=True)
class RedisServer:
    """The session's server: ``process`` is None when it is an external one."""

    url: str
    process: ServerProcess | None


class Stoppable(Protocol):
    def stop(self) -> object: ...

    def kill(self) -> object: ...


class ServerReaper:
    """Every server and cluster the session started, so none outlives it.

    Fixtures that start servers some other way (e.g. ``ensure_running``) can
    ``own()`` any object with ``stop()`` (graceful) and ``kill()`` (SIGKILL).
    """

    def __init__(self) -> None:
        self._owned: list[Stoppable] = []

    def own(self, item: Stoppable) -> None:
        self._owned.append(item)

    def release(self, item: Stoppable) -> None:
        """Stop ``item`` gracefully, SIGKILL it if that fails, and forget it."""
        try:
            item.stop()
        except EmbeddedServerError:
            item.kill()
        finally:
            if item in self._owned:
                self._owned.remove(item)

    def kill_all(self) -> None:
        while self._owned:
            self._owned.pop().kill()


_REAPER = pytest.StashKey[ServerReaper]()


def pytest_configure(config: pytest.Config) -> None:
    reaper = ServerReaper()
    config.stash[_REAPER] = reaper
    # atexit covers an interpreter that exits without unconfiguring (an internal error).
    atexit.register(reaper.kill_all)


def pytest_unconfigure(config: pytest.Config) -> None:
    reaper = config.stash.get(_REAPER, None)
    if reaper is not None:
        reaper.kill_all()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the marker must be there before `-m` deselection looks at it.
    for item in items:
        if CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def server_reaper(pytestconfig: pytest.Config) -> ServerReaper:
    return pytestconfig.stash[_REAPER]


@pytest.fixture(scope="session")
def _redis_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return tmp_path_factory.mktemp(f"redis-{worker}", numbered=True)


@pytest.fixture(scope="session")
def redis_binary() -> ServerBinary:
    return find_server(os.environ.get("OTTERMQ_REDIS_SERVER") or None)


@pytest.fixture(scope="session")
def redis_server(_redis_root: Path, redis_binary: ServerBinary, server_reaper: ServerReaper) -> Iterator[RedisServer]:
    external = os.environ.get(EXTERNAL_URL_VARIABLE)
    if external:
        yield RedisServer(url=external, process=None)
        return
    process = start_private(_redis_root / "shared", appendonly=False, binary=redis_binary)
    server_reaper.own(process)
    try:
        yield RedisServer(url=process.url, process=process)
    finally:
        server_reaper.release(process)


@pytest.fixture(scope="session")
def _redis_admin(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def redis_url(redis_server: RedisServer, _redis_admin: redis.Redis) -> str:
    process = redis_server.process
    if process is not None and not process.is_alive():
        # An earlier test broke the shared server; later tests should not all fail for it.
        process.restart()
    _redis_admin.flushall()
    return redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=False)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def redis_factory(
    tmp_path: Path, redis_binary: ServerBinary, server_reaper: ServerReaper
) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(**kwargs: Any) -> ServerProcess:
        kwargs.setdefault("binary", redis_binary)
        process = start_private(tmp_path / f"redis-{len(started)}", **kwargs)
        server_reaper.own(process)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in reversed(started):
            server_reaper.release(process)


@pytest.fixture
def durable_redis(redis_factory: Callable[..., ServerProcess]) -> ServerProcess:
    return redis_factory(appendonly=True, appendfsync="everysec")


@pytest.fixture(scope="session")
def redis_cluster(
    _redis_root: Path, redis_binary: ServerBinary, server_reaper: ServerReaper
) -> Iterator[ClusterProcess]:
    cluster = start_cluster(_redis_root / "cluster", masters=3, binary=redis_binary)
    server_reaper.own(cluster)
    try:
        yield cluster
    finally:
        server_reaper.release(cluster)


@pytest.fixture
def cluster_url(redis_cluster: ClusterProcess) -> str:
    for node in redis_cluster.nodes:
        client = redis.Redis.from_url(node.url)
        try:
            client.flushall()
        finally:
            client.close()
    return redis_cluster.url
