"""The Store on Redis and Redis Cluster: one Lua script call per shard per operation."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from ottermq import keys
from ottermq.clock import Clock, SystemClock
from ottermq.errors import NotFound, QueueFull
from ottermq.keys import Keyspace
from ottermq.settings import Settings
from ottermq.store.blueprint import RunBlueprint
from ottermq.store.boundary import (
    ACK,
    EXTEND,
    FAIL,
    REQUEUE,
    check_run_id,
    created,
    raise_for,
    run_args,
    translate_errors,
)
from ottermq.store.codec import blueprint_fields, parse_leased, queue_config_json
from ottermq.store.codes import Code
from ottermq.store.connection import Client, connect
from ottermq.store.scripts import Scripts
from ottermq.store.types import (
    Ack,
    AckResult,
    ExpandResult,
    ExtendResult,
    ExtendStatus,
    FailResult,
    FailStatus,
    Failure,
    Lease,
    LeasedTask,
    LeaseRef,
    PromoteResult,
    ReapResult,
    RequeueStatus,
    RunCreated,
    RunRequest,
    RunState,
)
from ottermq.store.wake import WakeListener

__all__ = ["RedisStore", "run_of"]

CREATE_CHUNK = 500
_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_of(unit_id: str) -> str:
    return unit_id.split("|", 1)[0]


class RedisStore:
    """Hot-path store operations. Batch methods take many items and return one result each."""

    def __init__(self, client: Client, settings: Settings, clock: Clock | None = None) -> None:
        self.client = client
        self.settings = settings
        self.keyspace = Keyspace.create(settings.key_prefix, settings.shards)
        self.clock: Clock = clock or SystemClock()
        self._scripts = Scripts(client)
        self._rotation = 0

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> RedisStore:
        with translate_errors("connect"):
            return cls(connect(settings), settings, clock)

    def close(self) -> None:
        self.client.close()

    # --- plumbing -------------------------------------------------------------------------

    def _call(self, name: str, shard: int, args: Sequence[Any]) -> Any:
        p = self.keyspace.shard_prefix(shard)
        s = self.settings
        preamble = (p, self.clock.now_ms(), shard, self.keyspace.prefix, s.events_maxlen, s.retention_ms, s.lease_ms)
        with translate_errors(name):
            return self._scripts[name](keys=[keys.shard_events(p)], args=[*preamble, *args])

    def shard_of_unit(self, unit_id: str) -> int:
        return self.keyspace.shard_of(run_of(unit_id))

    def _by_shard(self, unit_ids: Sequence[str]) -> dict[int, list[int]]:
        if self.keyspace.shards == 1:
            return {0: list(range(len(unit_ids)))} if unit_ids else {}
        groups: dict[int, list[int]] = {}
        for index, unit_id in enumerate(unit_ids):
            groups.setdefault(self.shard_of_unit(unit_id), []).append(index)
        return groups

    def new_run_id(self) -> str:
        """Time-ordered, unique: 12 hex digits of ms since the epoch, 12 random hex digits."""
        return f"{self.clock.now_ms():012x}{secrets.token_hex(6)}"

    # --- blueprints ------------------------------------------------------------------------

    def install(self, blueprint: RunBlueprint) -> str:
        """Write the blueprint and its queue configs into every shard; returns its digest."""
        blueprint.validate()
        digest = blueprint.digest()
        for shard in range(self.keyspace.shards):
            self._install_shard(blueprint, digest, shard)
        return digest

    def _install_shard(self, bp: RunBlueprint, digest: str, shard: int) -> None:
        retention = self.settings.retention_ms
        meta, tasks = blueprint_fields(bp, retention)
        args: list[Any] = [digest, meta, len(tasks)]
        for name, spec in tasks:
            args += [name, spec]
        args.append(len(bp.queues))
        for queue in bp.queues:
            args += [queue.name, queue_config_json(queue, shard, self.keyspace.shards, retention)]
        self._call("install_blueprint", shard, args)

    # --- runs ------------------------------------------------------------------------------

    def create_run(self, blueprint: RunBlueprint, request: RunRequest) -> RunCreated:
        """Create one run; raises QueueFull when a root queue is full under `reject`."""
        result = self.create_runs(blueprint, [request])[0]
        if result.rejected_by is not None:
            raise QueueFull(
                f"queue {result.rejected_by!r} is full (its max_size is reached and its overflow "
                "policy is reject); the run was not created",
            )
        return result

    def create_runs(self, blueprint: RunBlueprint, requests: Sequence[RunRequest]) -> list[RunCreated]:
        """Create many runs: one script call per shard per 500 runs. Each run is all-or-nothing."""
        digest = blueprint.digest()
        ids = []
        for request in requests:
            if request.run_id is None:
                ids.append(self.new_run_id())
            else:
                check_run_id(request.run_id)
                ids.append(request.run_id)
        results: list[RunCreated | None] = [None] * len(requests)
        for shard, indexes in self._by_shard(ids).items():
            for chunk in _chunks(indexes, CREATE_CHUNK):
                args: list[Any] = [digest, len(chunk)]
                for i in chunk:
                    args += run_args(ids[i], requests[i])
                reply = self._call("create_runs", shard, args)
                if reply == Code.BLUEPRINT_MISSING:
                    blueprint.validate()
                    self._install_shard(blueprint, digest, shard)
                    reply = self._call("create_runs", shard, args)
                for slot, i in enumerate(chunk):
                    results[i] = created(ids[i], int(reply[2 * slot]), reply[2 * slot + 1])
        return [r for r in results if r is not None]

    def cancel_run(self, run_id: str) -> RunState:
        """Cancel a run; returns `cancelled`, or the state it had already finished in."""
        code, state = self._call("cancel", self.keyspace.shard_of(run_id), [run_id])
        if code == Code.NOT_FOUND:
            raise NotFound(f"run {run_id!r} does not exist (or has expired)")
        return RunState(state)

    # --- leases ----------------------------------------------------------------------------

    def lease(
        self,
        queues: Sequence[str],
        max_tasks: int,
        *,
        worker: str,
        lease_ms: int | None = None,
        shards: Iterable[int] | None = None,
    ) -> Lease:
        """Lease up to ``max_tasks`` ready tasks, visiting shards round-robin (or ``shards`` first)."""
        order = self._shard_order(shards)
        tasks: list[LeasedTask] = []
        wake_at: int | None = None
        for shard in order:
            want = max_tasks - len(tasks)
            if want <= 0:
                break
            token = secrets.token_hex(12)
            reply = self._call("lease", shard, [want, token, "" if lease_ms is None else lease_ms, worker, len(queues), *queues])
            tasks.extend(parse_leased(row) for row in reply[1:])
            if reply[0] != "":
                hint = int(reply[0])
                wake_at = hint if wake_at is None else min(wake_at, hint)
        return Lease(tuple(tasks), None if len(tasks) >= max_tasks else wake_at)

    def _shard_order(self, first: Iterable[int] | None) -> list[int]:
        count = self.keyspace.shards
        start = self._rotation
        self._rotation = (self._rotation + 1) % count
        rotated = [(start + i) % count for i in range(count)]
        if first is None:
            return rotated
        preferred = [s for s in dict.fromkeys(first) if 0 <= s < count]
        return preferred + [s for s in rotated if s not in preferred]

    def extend(self, refs: Sequence[LeaseRef], lease_ms: int | None = None) -> list[ExtendResult]:
        """Extend many leases; each result says extended (new deadline), lost or cancelled."""
        results: list[ExtendResult | None] = [None] * len(refs)
        for shard, indexes in self._by_shard([r.unit_id for r in refs]).items():
            args: list[Any] = ["" if lease_ms is None else lease_ms, len(indexes)]
            for i in indexes:
                args += [refs[i].unit_id, refs[i].token]
            reply = self._call("extend", shard, args)
            for slot, i in enumerate(indexes):
                value = int(reply[slot])
                if value > 0:
                    results[i] = ExtendResult(refs[i].unit_id, ExtendStatus.EXTENDED, value)
                else:
                    results[i] = ExtendResult(refs[i].unit_id, EXTEND[value])
        return [r for r in results if r is not None]

    def ack(self, acks: Sequence[Ack]) -> list[AckResult]:
        """Complete leased tasks with their outputs; downstream tasks become ready in the same call."""
        results: list[AckResult | None] = [None] * len(acks)
        for shard, indexes in self._by_shard([a.unit_id for a in acks]).items():
            args: list[Any] = [len(indexes)]
            for i in indexes:
                args += [acks[i].unit_id, acks[i].token, acks[i].output]
            reply = self._call("ack", shard, args)
            for slot, i in enumerate(indexes):
                results[i] = AckResult(acks[i].unit_id, ACK[int(reply[slot])])
        return [r for r in results if r is not None]

    def fail(self, failures: Sequence[Failure]) -> list[FailResult]:
        """Record failed attempts: retried after their delay, or dead-lettered."""
        results: list[FailResult | None] = [None] * len(failures)
        for shard, indexes in self._by_shard([f.unit_id for f in failures]).items():
            args: list[Any] = [len(indexes)]
            for i in indexes:
                f = failures[i]
                delay = "" if f.retry_delay_ms is None else max(0, int(f.retry_delay_ms))
                args += [f.unit_id, f.token, f.kind, f.message, delay]
            reply = self._call("fail", shard, args)
            for slot, i in enumerate(indexes):
                status = FAIL[int(reply[2 * slot])]
                detail = reply[2 * slot + 1]
                results[i] = FailResult(
                    failures[i].unit_id,
                    status,
                    due_ms=int(detail) if status is FailStatus.RETRIED else None,
                    reason=detail if status is FailStatus.DEAD else None,
                )
        return [r for r in results if r is not None]

    def expand(self, ref: LeaseRef, item_inputs: Sequence[str]) -> ExpandResult:
        """Turn a leased fan-out task into one item task per input, atomically."""
        shard = self.shard_of_unit(ref.unit_id)
        code, detail = self._call("expand", shard, [ref.unit_id, ref.token, len(item_inputs), *item_inputs])
        raise_for(Code(int(code)), ref.unit_id, "expand", detail)
        return ExpandResult(ref.unit_id, int(detail))

    # --- maintenance -----------------------------------------------------------------------

    def reap(self, shard: int | None = None, limit: int = 1000) -> ReapResult:
        """Take back expired leases (every shard when ``shard`` is None)."""
        total, nxt = 0, None
        for s in range(self.keyspace.shards) if shard is None else (shard,):
            reaped, deadline = self._call("reap", s, [limit])
            total += int(reaped)
            if deadline != "":
                nxt = int(deadline) if nxt is None else min(nxt, int(deadline))
        return ReapResult(total, nxt)

    def promote(self, shard: int | None = None, queues: Sequence[str] = (), limit: int = 1000) -> PromoteResult:
        """Move due delayed tasks to ready (every configured queue when ``queues`` is empty)."""
        total, nxt = 0, None
        for s in range(self.keyspace.shards) if shard is None else (shard,):
            moved, due = self._call("promote", s, [limit, len(queues), *queues])
            total += int(moved)
            if due != "":
                nxt = int(due) if nxt is None else min(nxt, int(due))
        return PromoteResult(total, nxt)

    def dlq_requeue(self, unit_ids: Sequence[str], new_input: str | None = None) -> list[RequeueStatus]:
        """Put dead-lettered tasks back in their queues with fresh attempts."""
        results: list[RequeueStatus | None] = [None] * len(unit_ids)
        for shard, indexes in self._by_shard(unit_ids).items():
            args: list[Any] = [len(indexes)]
            for i in indexes:
                args += [unit_ids[i], "0" if new_input is None else "1", new_input or ""]
            reply = self._call("dlq_requeue", shard, args)
            for slot, i in enumerate(indexes):
                results[i] = REQUEUE[int(reply[slot])]
        return [r for r in results if r is not None]

    def dlq_purge(self, unit_ids: Sequence[str]) -> int:
        """Remove entries from their dead-letter queues for good; returns how many were removed."""
        removed = 0
        for shard, indexes in self._by_shard(unit_ids).items():
            removed += int(self._call("dlq_purge", shard, [len(indexes), *(unit_ids[i] for i in indexes)]))
        return removed

    def dlq_requeue_all(self, queue: str, new_input: str | None = None, batch: int = 500) -> int:
        """Requeue every dead-lettered task of ``queue``; returns how many were requeued."""
        done = 0
        while ids := self.dead_unit_ids(queue, batch):
            statuses = self.dlq_requeue(ids, new_input)
            done += sum(s is RequeueStatus.REQUEUED for s in statuses)
            if not any(s is RequeueStatus.REQUEUED for s in statuses):
                # Entries of cancelled runs stay listed until purged; do not spin on them.
                break
        return done

    def dlq_purge_all(self, queue: str, batch: int = 500) -> int:
        """Purge every dead-letter entry of ``queue``; returns how many were removed."""
        removed = 0
        while ids := self.dead_unit_ids(queue, batch):
            count = self.dlq_purge(ids)
            removed += count
            if count == 0:
                break
        return removed

    def dead_unit_ids(self, queue: str, limit: int = 1000) -> list[str]:
        """Up to ``limit`` unit ids of a dead-letter queue, oldest first, across shards."""
        out: list[str] = []
        for shard in range(self.keyspace.shards):
            key = keys.queue_dead(self.keyspace.shard_prefix(shard), queue)
            with translate_errors("dlq list"):
                out.extend(str(member) for member in self.client.zrange(key, 0, limit - len(out) - 1))
            if len(out) >= limit:
                break
        return out

    def wake_listener(self, queues: Sequence[str]) -> WakeListener:
        """A subscription that wakes an idle consumer when work arrives in ``queues``."""
        names: dict[str, None] = {}
        for queue in queues:
            for name in self._members(queue):
                names[name] = None
        channels = [keys.wake_channel(self.keyspace.prefix, q) for q in names]
        with translate_errors("wake subscribe"):
            return WakeListener(self.client, channels)

    def _members(self, queue: str) -> list[str]:
        key = keys.queue_config(self.keyspace.shard_prefix(0), queue)
        with translate_errors("queue config"):
            raw = self.client.get(key)
        if raw:
            members = json.loads(raw).get("members")
            if members:
                return [str(m) for m in members]
        return [queue]
