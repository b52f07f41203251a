"""store/connection.py: URL forms, the embedded default, errors at the boundary."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster
from redis.sentinel import SentinelConnectionPool
from store_helpers import single

from ottermq.embedded import ClusterProcess
from ottermq.errors import ConfigError, StoreUnavailable
from ottermq.settings import Settings
from ottermq.store.connection import client_from_url, connect, is_cluster
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import RunRequest


def test_unix_socket_url(redis_url: str) -> None:
    client = client_from_url(redis_url)
    assert client.ping() and not is_cluster(client)


def test_tcp_url_with_acl_user(redis_factory, tmp_path: Path) -> None:
    server = redis_factory(unix_socket=False)
    admin = redis.Redis.from_url(server.url)
    admin.execute_command("ACL", "SETUSER", "otter", "on", ">s3cret", "~*", "&*", "+@all")
    host, port = server.url.removeprefix("redis://").split(":")[:2]
    client = client_from_url(f"redis://otter:s3cret@{host}:{port.split('/')[0]}/0")
    assert client.acl_whoami() == "otter"
    with pytest.raises(StoreUnavailable):
        RedisStore(client_from_url(f"redis://otter:wrong@{host}:{port.split('/')[0]}/0"), Settings(redis_url="x")).install(
            single()
        )


def test_cluster_url_forms(redis_cluster: ClusterProcess, cluster_url: str) -> None:
    hosts = ",".join(f"{h}:{p}" for h, p in redis_cluster.addresses)
    for url in (f"redis+cluster://{hosts}", f"{redis_cluster.url}?cluster=true"):
        client = client_from_url(url)
        assert isinstance(client, RedisCluster) and client.ping()
        client.close()


def test_sentinel_url_builds_a_master_client() -> None:
    client = client_from_url("redis+sentinel://user:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/2")
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "mymaster"
    assert pool.connection_kwargs["db"] == 2 and pool.connection_kwargs["password"] == "pw"


def test_bad_urls_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unsupported Redis URL scheme"):
        client_from_url("http://localhost:6379")
    with pytest.raises(ConfigError, match="service name"):
        client_from_url("redis+sentinel://127.0.0.1:26379")
    with pytest.raises(ConfigError) as info:
        client_from_url("ftp://alice:secret@host")
    assert "secret" not in str(info.value)


def test_unreachable_server_is_store_unavailable(tmp_path: Path) -> None:
    store = RedisStore(client_from_url(f"unix://{tmp_path}/nothing.sock"), Settings(redis_url="x"))
    with pytest.raises(StoreUnavailable) as info:
        store.create_run(single(), RunRequest())
    assert info.value.operation == "create_runs"


def test_no_url_uses_the_embedded_server(tmp_path: Path, server_reaper) -> None:
    from ottermq.embedded import stop

    settings = Settings(redis_url=None, data_dir=tmp_path / ".ottermq")
    client = connect(settings)
    try:
        assert client.ping()
    finally:
        client.close()
        stop(settings)


def test_unreachable_cluster_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="cannot connect"):
        client_from_url("redis+cluster://127.0.0.1:1")


def test_out_of_memory_inside_a_script_is_store_unavailable(store: RedisStore, rc: redis.Redis) -> None:
    store.install(single())
    rc.config_set("maxmemory", "1")
    try:
        with pytest.raises(StoreUnavailable, match="maxmemory"):
            store.create_run(single(), RunRequest())
    finally:
        rc.config_set("maxmemory", "0")


def test_a_failing_script_is_an_internal_error(store: RedisStore, rc: redis.Redis) -> None:
    from ottermq.errors import InternalError

    store.install(single())
    with pytest.raises(InternalError, match="script failed"):
        store._call("create_runs", 0, [single().digest(), 1])  # one run announced, none given
