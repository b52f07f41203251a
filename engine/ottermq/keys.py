"""Every Redis key and pub/sub channel OtterMQ uses, built in this one place.

Layout::

    {<prefix>:s<N>.<salt>}:…      one hash tag per shard: runs, tasks, queue partitions, events
    {<prefix>:catalog}:…          plans, plan versions, the pipeline index, schedules
    {<prefix>:module:<digest>}    one handler module (content-addressed, its own slot)
    <prefix>:wake:<queue>         pub/sub: new work in <queue> (message: shard number)
    <prefix>:events               pub/sub: new entries in a shard's event stream (message: shard number)

Inside a shard every key starts with the shard prefix ``{<prefix>:s<N>.<salt>}:``. The
Lua scripts receive that prefix and derive the keys they touch from it with
``store/lua/lib/core.lua``, which mirrors the ``shard_*``/``run``/``unit``/``queue_*``
functions below name for name (a test checks both produce the same strings).

The ``.<salt>`` part spreads shard ``N`` of ``S`` into the N-th equal slice of the
16384 cluster slots, so S shards on a cluster whose masters own equal contiguous slot
ranges (what ``redis-cli --cluster create`` does) are spread evenly over the masters.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

__all__ = [
    "CLUSTER_SLOTS",
    "Keyspace",
    "blueprint",
    "catalog_tag",
    "crc16",
    "events_channel",
    "is_valid_name",
    "key_slot",
    "module",
    "pipeline_index",
    "plan",
    "plan_versions",
    "queue_config",
    "queue_dead",
    "queue_delayed",
    "queue_ready",
    "queue_state",
    "run",
    "schedule",
    "schedules",
    "shard_events",
    "shard_events_count",
    "shard_events_marks",
    "shard_inflight",
    "shard_queues",
    "shard_runs_active",
    "shard_runs_done",
    "unit_field",
    "unit_id",
    "wake_channel",
]

CLUSTER_SLOTS = 16384
# Characters that would break a key, a hash tag, a unit id or the JSON the scripts
# concatenate if they appeared in a name (run ids, task and queue names, the prefix).
_BAD_NAME_CHAR = re.compile(r'[{}|"\\\s\x00-\x1f\x7f]')


def is_valid_name(name: str) -> bool:
    """Non-empty, no braces, '|', quotes, backslashes, whitespace or control characters."""
    return bool(name) and _BAD_NAME_CHAR.search(name) is None


def crc16(data: bytes) -> int:
    """CRC16-XMODEM, the checksum Redis Cluster uses to place keys in slots."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    """The cluster slot of ``key`` (honouring a ``{hash tag}``)."""
    raw = key.encode()
    start = raw.find(b"{")
    if start != -1:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1 : end]
    return crc16(raw) % CLUSTER_SLOTS


def _shard_tag(prefix: str, shard: int, shards: int) -> str:
    low = shard * CLUSTER_SLOTS // shards
    high = (shard + 1) * CLUSTER_SLOTS // shards
    salt = 0
    while True:
        tag = f"{prefix}:s{shard}.{salt}"
        if low <= crc16(tag.encode()) % CLUSTER_SLOTS < high:
            return "{" + tag + "}"
        salt += 1


@dataclass(frozen=True, slots=True)
class Keyspace:
    """The shard layout of one installation: key prefix and number of shards.

    The number of shards is fixed for the life of an installation: a run lives in
    ``crc32(run_id) % shards``, so changing it strands existing runs.
    """

    prefix: str
    shards: int
    shard_prefixes: tuple[str, ...]

    @classmethod
    def create(cls, prefix: str = "ottermq", shards: int = 1) -> Keyspace:
        if shards < 1:
            raise ValueError("shards must be at least 1")
        if not is_valid_name(prefix):
            raise ValueError(f"key prefix {prefix!r}: no braces, '|', quotes, backslashes, spaces or control characters")
        prefixes = tuple(_shard_tag(prefix, n, shards) + ":" for n in range(shards))
        return cls(prefix=prefix, shards=shards, shard_prefixes=prefixes)

    def shard_of(self, run_id: str) -> int:
        """The shard a run lives in: a stable hash, so a retried id lands in the same place."""
        return zlib.crc32(run_id.encode()) % self.shards

    def shard_prefix(self, shard: int) -> str:
        return self.shard_prefixes[shard]

    def run_prefix(self, run_id: str) -> str:
        return self.shard_prefixes[self.shard_of(run_id)]


# --- keys inside a shard (``p`` is a shard prefix such as ``{ottermq:s0.0}:``) -------------


def shard_events(p: str) -> str:
    """Stream of transitions in this shard: one entry per script call (at most 200 events
    each, field ``e``), trimmed to about ``events_maxlen`` events."""
    return f"{p}events"


def shard_events_count(p: str) -> str:
    """Hash: ``total`` events ever appended to the shard's stream (drives trimming by event count)."""
    return f"{p}events:count"


def shard_events_marks(p: str) -> str:
    """List of ``"<entry id> <total>"`` marks, every ~1/16 of the cap, oldest first: where to trim."""
    return f"{p}events:marks"


def shard_inflight(p: str) -> str:
    """Sorted set: unit id -> lease deadline (ms), for every leased unit of the shard."""
    return f"{p}inflight"


def shard_queues(p: str) -> str:
    """Set of the queue names configured in this shard."""
    return f"{p}queues"


def shard_runs_active(p: str) -> str:
    """Sorted set: run id -> creation time (ms), for runs not finished."""
    return f"{p}runs:active"


def shard_runs_done(p: str) -> str:
    """Sorted set: run id -> expiry time (ms), for finished runs still retained."""
    return f"{p}runs:done"


def blueprint(p: str, digest: str) -> str:
    """Hash: the shard's copy of a run blueprint (``meta`` and one ``t:<task>`` field per task)."""
    return f"{p}bp:{digest}"


def queue_config(p: str, queue: str) -> str:
    """Hash: the shard's copy of a queue config, with this shard's share of global limits."""
    return f"{p}qc:{queue}"


def queue_ready(p: str, queue: str) -> str:
    """Sorted set: unit id -> order score (FIFO/LIFO sequence, priority band + sequence)."""
    return f"{p}q:{queue}:ready"


def queue_delayed(p: str, queue: str) -> str:
    """Sorted set: unit id -> due time (ms)."""
    return f"{p}q:{queue}:delayed"


def queue_dead(p: str, queue: str) -> str:
    """Sorted set: unit id -> time it was dead-lettered (ms)."""
    return f"{p}q:{queue}:dead"


def queue_state(p: str, queue: str) -> str:
    """Hash: sequence, in-flight count, rate window and counters of the queue in this shard."""
    return f"{p}q:{queue}:state"


def run(p: str, run_id: str) -> str:
    """Hash: everything about one run, so it expires as one key: metadata, the DAG state of
    each task (``s:``, ``w:``, ``k:``, ``n:``, ``d:``, ``x:`` + task) and the fields of each
    unit (see :func:`unit_field`)."""
    return f"{p}run:{run_id}"


def unit_field(unit_id_: str, field: str) -> str:
    """The run-hash field holding ``field`` of a unit: ``<task>|<field>`` or ``<task>|<item>|<field>``.

    Unit fields: st (state), a (attempt), tok (lease token), dl (deadline), w (worker),
    pr (priority), in (input), out (output), err / ek (last error and its kind), h (history,
    a JSON array), due (when delayed), fin (when it ended).
    """
    return f"{unit_id_.split('|', 1)[1]}|{field}"


def unit_id(run_id: str, task: str, item: int | None = None) -> str:
    """``<run>|<task>`` or ``<run>|<task>|<item>``: the member stored in queues and indexes."""
    return f"{run_id}|{task}" if item is None else f"{run_id}|{task}|{item}"


# --- channels ---------------------------------------------------------------------------------


def wake_channel(prefix: str, queue: str) -> str:
    """Pub/sub channel announcing new ready work in ``queue``; the message is the shard number."""
    return f"{prefix}:wake:{queue}"


def events_channel(prefix: str) -> str:
    """Pub/sub channel announcing new event-stream entries; the message is the shard number."""
    return f"{prefix}:events"


def channel_prefix(prefix: str) -> str:
    """What the Lua scripts append ``:wake:<queue>`` / ``:events`` to."""
    return prefix


# --- catalog keys (plans, modules, schedules): not sharded ------------------------------------


def catalog_tag(prefix: str) -> str:
    return "{" + prefix + ":catalog}"


def plan(prefix: str, plan_hash: str) -> str:
    """String: a compiled plan's JSON, content-addressed."""
    return f"{catalog_tag(prefix)}:plan:{plan_hash}"


def plan_versions(prefix: str, pipeline: str) -> str:
    """Hash: version number -> plan hash, for one pipeline (plus ``latest``)."""
    return f"{catalog_tag(prefix)}:versions:{pipeline}"


def pipeline_index(prefix: str) -> str:
    """Hash: pipeline name -> latest version."""
    return f"{catalog_tag(prefix)}:pipelines"


def schedule(prefix: str, pipeline: str) -> str:
    """Hash: the schedules of one pipeline and their last fire times."""
    return f"{catalog_tag(prefix)}:schedule:{pipeline}"


def schedules(prefix: str) -> str:
    """Set: pipelines that have schedules."""
    return f"{catalog_tag(prefix)}:schedules"


def module(prefix: str, digest: str) -> str:
    """String: a handler module's bytes, content-addressed, each in its own slot."""
    return "{" + f"{prefix}:module:{digest}" + "}"


def pipeline_history(prefix: str, pipeline: str) -> str:
    """List: one JSON entry per applied version (and prune) of a pipeline, oldest first."""
    return f"{catalog_tag(prefix)}:history:{pipeline}"


def catalog_events(prefix: str) -> str:
    """Stream of catalog changes (pipeline.applied, pipeline.removed), capped."""
    return f"{catalog_tag(prefix)}:events"


def catalog_channel(prefix: str) -> str:
    """Pub/sub channel on which catalog changes are announced (workers reload plans)."""
    return f"{prefix}:catalog"


def plan_sources(prefix: str) -> str:
    """Hash: plan hash -> the pipeline file it was applied from (for resolving granted directories)."""
    return f"{catalog_tag(prefix)}:sources"
