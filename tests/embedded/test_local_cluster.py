"""The local Redis Cluster: every slot served, hash tags keep a script on one node."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from redis.exceptions import ClusterCrossSlotError, RedisClusterException

from ottermq.embedded import ClusterProcess, ServerBinary, start_cluster

MOVE = """
local v = redis.call('LPOP', KEYS[1])
if v then redis.call('RPUSH', KEYS[2], v) end
return v
"""


def test_a_script_over_one_hash_tag_works(cluster_url: str, redis_cluster: ClusterProcess) -> None:
    client = redis.RedisCluster(startup_nodes=redis_cluster.startup_nodes)
    try:
        client.rpush("{q1}:ready", "t1")
        assert client.eval(MOVE, 2, "{q1}:ready", "{q1}:inflight") == b"t1"
        assert client.lrange("{q1}:inflight", 0, -1) == [b"t1"]
    finally:
        client.close()


def test_a_script_over_two_hash_tags_is_refused(cluster_url: str, redis_cluster: ClusterProcess) -> None:
    client = redis.RedisCluster.from_url(cluster_url)
    try:
        assert client.keyslot("{q1}:ready") != client.keyslot("{q2}:inflight")
        with pytest.raises(RedisClusterException, match="same key slot"):
            client.eval(MOVE, 2, "{q1}:ready", "{q2}:inflight")
    finally:
        client.close()
    # The server refuses it too, whichever master receives it.
    for node in redis_cluster.nodes:
        direct = redis.Redis.from_url(node.url)
        try:
            # The server's `-CROSSSLOT` reply, which redis-py maps to its own class.
            with pytest.raises(ClusterCrossSlotError):
                direct.eval(MOVE, 2, "{q1}:ready", "{q2}:inflight")
        finally:
            direct.close()


@pytest.mark.cluster
def test_a_cluster_formed_without_the_cli(tmp_path: Path, redis_binary: ServerBinary) -> None:
    with start_cluster(tmp_path / "by-hand", masters=3, binary=redis_binary, use_cli=False) as cluster:
        assert len(cluster.nodes) == 3
        client = redis.RedisCluster(startup_nodes=cluster.startup_nodes)
        try:
            owners = {client.get_node_from_key(f"{{t{i}}}").port for i in range(50)}
            assert owners == {node.port for node in cluster.nodes}
        finally:
            client.close()
    assert not any(node.is_alive() for node in cluster.nodes)
