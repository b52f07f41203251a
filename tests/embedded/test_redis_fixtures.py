"""The suite's own Redis fixtures behave as documented."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from ottermq.clock import FakeClock
from ottermq.embedded import ClusterProcess, ServerProcess


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_starts_with_an_empty_server(redis_client: redis.Redis, round_: int) -> None:
    # Run twice: the second run would see the first one's key if FLUSHALL did not happen.
    assert redis_client.dbsize() == 0
    redis_client.set(b"left-behind", b"1")
    assert redis_client.get(b"left-behind") == b"1"


def test_redis_client_returns_bytes(redis_client: redis.Redis) -> None:
    redis_client.set("k", "v")
    assert redis_client.get("k") == b"v"


def test_durable_redis_keeps_data_across_restart_and_crash(durable_redis: ServerProcess) -> None:
    client = redis.Redis.from_url(durable_redis.url)
    try:
        client.set("before-restart", "1")
        first_pid = durable_redis.pid
        durable_redis.restart()
        assert durable_redis.pid != first_pid
        assert client.get("before-restart") == b"1"
        client.set("before-crash", "2")
        durable_redis.kill()
        assert not durable_redis.is_alive()
        with pytest.raises(redis.exceptions.ConnectionError):
            client.ping()
        durable_redis.restart()
        assert client.mget("before-restart", "before-crash") == [b"1", b"2"]
    finally:
        client.close()


def test_redis_factory_starts_independent_tcp_servers(redis_factory: Callable[..., ServerProcess]) -> None:
    one = redis_factory(unix_socket=False, appendonly=False)
    two = redis_factory(unix_socket=False, appendonly=False)
    assert one.url.startswith("redis://127.0.0.1:") and one.port != two.port
    a, b = redis.Redis.from_url(one.url), redis.Redis.from_url(two.url)
    try:
        a.set("only-here", "1")
        assert b.get("only-here") is None
    finally:
        a.close()
        b.close()


def test_cluster_url_is_flushed_and_serves_every_slot(cluster_url: str, redis_cluster: ClusterProcess) -> None:
    client = redis.RedisCluster.from_url(cluster_url)
    try:
        assert client.dbsize(target_nodes=redis.RedisCluster.ALL_NODES) == 0
        for tag in range(30):  # hash tags that land on all three masters
            client.set(f"{{t{tag}}}:k", "v")
        assert sum(redis.Redis.from_url(node.url).dbsize() > 0 for node in redis_cluster.nodes) == 3
    finally:
        client.close()


def test_cluster_tests_are_marked(request: pytest.FixtureRequest, redis_cluster: ClusterProcess) -> None:
    assert request.node.get_closest_marker("cluster") is not None


def test_fake_clock_moves_only_when_told(fake_clock: FakeClock) -> None:
    start = fake_clock.now_ms()
    fake_clock.advance(1500)
    assert fake_clock.now_ms() == start + 1500
