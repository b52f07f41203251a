"""keys.py: slots, shard placement, and the Lua mirror of the shard key layout."""

from __future__ import annotations

import redis

from ottermq import keys
from ottermq.embedded import ClusterProcess
from ottermq.keys import Keyspace, key_slot
from ottermq.store.scripts import expand_includes


def test_crc16_is_xmodem() -> None:
    assert keys.crc16(b"123456789") == 0x31C3
    assert key_slot("somekey") == 11058
    assert key_slot("foo{hash_tag}") == key_slot("bar{hash_tag}") == 2515


def test_key_slot_matches_a_cluster_node(redis_cluster: ClusterProcess) -> None:
    node = redis.Redis.from_url(redis_cluster.nodes[0].url, decode_responses=True)
    try:
        for key in ("plain", "{tag}rest", "a{b}c", "{}empty", "x{y", "{ottermq:s3.1}:run:abc"):
            assert key_slot(key) == node.execute_command("CLUSTER", "KEYSLOT", key)
    finally:
        node.close()


def test_shards_spread_over_equal_slot_ranges() -> None:
    ks = Keyspace.create("ottermq", 6)
    slots = [key_slot(p + "x") for p in ks.shard_prefixes]
    assert [s * 6 // keys.CLUSTER_SLOTS for s in slots] == list(range(6))


def test_every_shard_key_shares_its_shard_slot() -> None:
    ks = Keyspace.create("otter", 4)
    for shard in range(4):
        p = ks.shard_prefix(shard)
        built = [
            keys.shard_events(p),
            keys.shard_events_count(p),
            keys.shard_events_marks(p),
            keys.shard_inflight(p),
            keys.shard_queues(p),
            keys.shard_runs_active(p),
            keys.shard_runs_done(p),
            keys.blueprint(p, "d"),
            keys.queue_config(p, "q"),
            keys.queue_ready(p, "q"),
            keys.queue_delayed(p, "q"),
            keys.queue_dead(p, "q"),
            keys.queue_state(p, "q"),
            keys.run(p, "r"),
        ]
        assert {key_slot(k) for k in built} == {key_slot(p)}


def test_run_shard_is_stable_and_spread() -> None:
    ks = Keyspace.create("ottermq", 6)
    assert ks.shard_of("run-1") == Keyspace.create("ottermq", 6).shard_of("run-1")
    counts = [0] * 6
    for i in range(6000):
        counts[ks.shard_of(f"run-{i}")] += 1
    assert min(counts) > 800


def test_catalog_keys_share_one_slot_apart_from_shards() -> None:
    slots = {
        key_slot(k)
        for k in (
            keys.plan("o", "h"),
            keys.plan_versions("o", "p"),
            keys.pipeline_index("o"),
            keys.schedule("o", "p"),
            keys.schedules("o"),
        )
    }
    assert len(slots) == 1
    assert keys.module("o", "abc").startswith("{") and key_slot(keys.module("o", "abc")) == key_slot("o:module:abc")


def test_lua_builds_the_same_keys_as_python(rc: redis.Redis) -> None:
    probe = expand_includes(
        '-- @include "lib/core.lua"\n'
        "return {K.events, K.events_count, K.events_marks, K.inflight, K.queues, K.runs_active, K.runs_done, K.blueprint('d'),\n"
        "  K.queue_config('q'), K.queue_ready('q'), K.queue_delayed('q'), K.queue_dead('q'), K.queue_state('q'),\n"
        "  K.run('r'), K.unit_id('r', 't', ''), K.unit_id('r', 't', '3'), split_unit('r|t|3')}\n"
    )
    p = Keyspace.create("ottermq", 2).shard_prefix(1)
    got = rc.eval(probe, 1, keys.shard_events(p), p, 0, 1, "ottermq", 10, 10, 10)
    assert got == [
        keys.shard_events(p),
        keys.shard_events_count(p),
        keys.shard_events_marks(p),
        keys.shard_inflight(p),
        keys.shard_queues(p),
        keys.shard_runs_active(p),
        keys.shard_runs_done(p),
        keys.blueprint(p, "d"),
        keys.queue_config(p, "q"),
        keys.queue_ready(p, "q"),
        keys.queue_delayed(p, "q"),
        keys.queue_dead(p, "q"),
        keys.queue_state(p, "q"),
        keys.run(p, "r"),
        keys.unit_id("r", "t"),
        keys.unit_id("r", "t", 3),
        "r",
        "t|3",
    ]
    assert keys.unit_field("r|t|3", "st") == "t|3|st" and keys.unit_field("r|t", "out") == "t|out"


def test_name_rules() -> None:
    good = ["ok", "nightly:2026-01-01T00:00", "a.b-c_d", "ü-ok", "x" * 200]
    bad = ["", "a b", "a|b", "a{b", "a}b", 'a"b', "a\\b", "a\tb", "a\nb", "a\x01b", "a\x7fb"]
    assert all(keys.is_valid_name(n) for n in good)
    assert not any(keys.is_valid_name(n) for n in bad)
