"""Read the transition events of every shard, merged, resumable from a cursor.

Each script call appends one entry to its shard's stream (``<shard>events``), whose field
``e`` holds the JSON array of the transitions it made and ``ts`` the caller's clock; it
then publishes the shard number on ``<prefix>:events``. A cursor is the last entry id
read in each shard (``"<id0>,<id1>,…"``), so a reader resumes exactly where it stopped.
Streams are capped (``events_maxlen`` entries, approximately): a reader that falls
further behind than that skips what was trimmed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ottermq import keys
from ottermq.store.boundary import translate_errors
from ottermq.store.connection import is_cluster
from ottermq.store.redis_store import RedisStore
from ottermq.store.wake import WakeListener

__all__ = ["Event", "EventCursor", "EventReader"]


@dataclass(frozen=True, slots=True)
class Event:
    shard: int
    entry_id: str
    index: int
    ts_ms: int
    type: str
    run_id: str | None
    unit_id: str | None
    queue: str | None
    # Everything else the transition recorded (a: attempt, k: failure kind, n: count, ...).
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EventCursor:
    positions: tuple[str, ...]

    @classmethod
    def beginning(cls, shards: int) -> EventCursor:
        return cls(("0-0",) * shards)

    @classmethod
    def parse(cls, text: str) -> EventCursor:
        return cls(tuple(part.strip() for part in text.split(",")))

    def __str__(self) -> str:
        return ",".join(self.positions)


class EventReader:
    def __init__(self, store: RedisStore) -> None:
        # Any: redis-py types replies as bytes | str; the store's clients decode to str.
        self._client: Any = store.client
        self._keyspace = store.keyspace
        self._streams = [keys.shard_events(p) for p in store.keyspace.shard_prefixes]
        self._listener: WakeListener | None = None

    def latest(self) -> EventCursor:
        """A cursor at the newest entry of every shard: read() returns only what follows."""
        positions = []
        with translate_errors("events latest"):
            for stream in self._streams:
                last = self._client.xrevrange(stream, "+", "-", count=1)
                positions.append(last[0][0] if last else "0-0")
        return EventCursor(tuple(positions))

    def read(
        self, cursor: EventCursor | None = None, *, count: int = 1000, block_ms: int | None = None
    ) -> tuple[list[Event], EventCursor]:
        """Events after ``cursor`` (from the beginning when None), oldest first, merged by time."""
        cursor = cursor or EventCursor.beginning(len(self._streams))
        if len(cursor.positions) != len(self._streams):
            raise ValueError(f"the cursor has {len(cursor.positions)} positions; there are {len(self._streams)} shards")
        events, positions = self._read_once(cursor, count)
        deadline = time.monotonic() + (block_ms or 0) / 1000.0
        # A wake-up can be stale (a notification forwarded late across cluster nodes): wait on.
        while not events and (left_ms := int((deadline - time.monotonic()) * 1000)) > 0:
            self._block(cursor, left_ms)
            events, positions = self._read_once(cursor, count)
        events.sort(key=lambda e: (e.ts_ms, e.entry_id, e.shard, e.index))
        return events, EventCursor(tuple(positions))

    def _read_once(self, cursor: EventCursor, count: int) -> tuple[list[Event], list[str]]:
        events: list[Event] = []
        positions = list(cursor.positions)
        with translate_errors("events read"):
            for shard, stream in enumerate(self._streams):
                entries = self._client.xrange(stream, f"({positions[shard]}", "+", count=count)
                for entry_id, fields in entries:
                    events.extend(_decode(shard, entry_id, fields))
                    positions[shard] = entry_id
        return events, positions

    def _block(self, cursor: EventCursor, block_ms: int) -> None:
        if not is_cluster(self._client):
            # One node: a single XREAD blocks on every shard's stream at once.
            with translate_errors("events wait"):
                self._client.xread(dict(zip(self._streams, cursor.positions, strict=True)), count=1, block=block_ms)
            return
        if self._listener is None:
            channel = keys.events_channel(self._keyspace.prefix)
            with translate_errors("events subscribe"):
                self._listener = WakeListener(self._client, [channel])
            # Anything appended before the subscription was confirmed is read now.
            if self._read_once(cursor, 1)[0]:
                return
        self._listener.wait(block_ms / 1000.0)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()


def _decode(shard: int, entry_id: str, fields: Mapping[str, str]) -> list[Event]:
    """An entry's ``e`` is a JSON array of ``[type, run, unit, queue]`` or ``[..., {extra}]``."""
    ts = int(fields.get("ts", "0"))
    out = []
    for index, raw in enumerate(json.loads(fields.get("e", "[]"))):
        kind, run_id, unit_id, queue = raw[:4]
        out.append(
            Event(
                shard=shard,
                entry_id=entry_id,
                index=index,
                ts_ms=ts,
                type=kind,
                run_id=run_id or None,
                unit_id=unit_id or None,
                queue=queue or None,
                data=raw[4] if len(raw) > 4 else {},
            )
        )
    return out
