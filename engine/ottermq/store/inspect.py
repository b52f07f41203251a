"""Read-only queries for the CLI and dashboards: runs, queues, dead letters. Never on the hot path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ottermq import keys
from ottermq.errors import NotFound
from ottermq.store.boundary import translate_errors
from ottermq.store.redis_store import RedisStore, run_of
from ottermq.store.types import FINISHED_RUN_STATES, RunState, TaskState, UnitState

__all__ = ["DeadTask", "Inspector", "QueueStats", "RunDetail", "RunSummary", "TaskView", "UnitView"]

_RUN_FIELDS = ("bp", "state", "created", "started", "finished", "prio", "labels")
_COUNTERS = ("processed", "failed", "retried", "dead", "dropped", "inflight")


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    pipeline: str
    plan_version: int
    state: RunState
    created_ms: int
    started_ms: int | None
    finished_ms: int | None
    priority: int | None
    labels: dict[str, str]


@dataclass(frozen=True, slots=True)
class UnitView:
    unit_id: str
    item: int | None
    state: UnitState
    attempt: int
    queue: str
    error: str | None
    error_kind: str | None
    output: str | None
    finished_ms: int | None = None
    # When a delayed unit (a retry with backoff, a task delay) may run.
    due_ms: int | None = None
    # Its failed attempts, oldest first: [{"attempt", "kind", "error", "at"}, ...]
    history: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class TaskView:
    name: str
    state: TaskState
    units: tuple[UnitView, ...]


@dataclass(frozen=True, slots=True)
class RunDetail:
    summary: RunSummary
    params: str
    failed_task: str | None
    tasks: tuple[TaskView, ...]


@dataclass(frozen=True, slots=True)
class QueueStats:
    name: str
    ready: int
    delayed: int
    in_flight: int
    dead_letters: int
    processed: int
    failed: int
    retried: int
    dead_lettered: int
    dropped: int


@dataclass(frozen=True, slots=True)
class DeadTask:
    unit_id: str
    run_id: str
    task: str
    item: int | None
    queue: str
    error: str
    error_kind: str
    attempts: int
    died_ms: int
    input: str | None
    # [{"attempt": n, "kind": ..., "error": ..., "at": ms}, ...], oldest first
    history: tuple[dict[str, Any], ...]


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


class Inspector:
    def __init__(self, store: RedisStore) -> None:
        # Any: redis-py types replies as bytes | str; the store's clients decode to str.
        self._c: Any = store.client
        self._ks = store.keyspace

    def _meta(self, p: str, digest: str) -> dict[str, Any]:
        """A blueprint's meta (pipeline, version, task order) from the shard's copy."""
        with translate_errors("blueprint"):
            meta: dict[str, Any] = json.loads(self._c.hget(keys.blueprint(p, digest), "meta") or "{}")
        return meta

    def runs(self, *, finished: bool = False, pipeline: str | None = None, limit: int = 50) -> list[RunSummary]:
        """The newest active (or finished) runs across shards, newest first."""
        ids: list[tuple[float, str]] = []
        with translate_errors("runs list"):
            for p in self._ks.shard_prefixes:
                index = keys.shard_runs_done(p) if finished else keys.shard_runs_active(p)
                ids.extend((score, rid) for rid, score in self._c.zrevrange(index, 0, limit * 4 - 1, withscores=True))
            ids.sort(reverse=True)
            out = []
            metas: dict[tuple[str, str], dict[str, Any]] = {}
            for _, rid in ids:
                p = self._ks.run_prefix(rid)
                data = dict(zip(_RUN_FIELDS, self._c.hmget(keys.run(p, rid), *_RUN_FIELDS), strict=True))
                if data["bp"] is None:
                    continue
                meta = metas.get((p, data["bp"]))
                if meta is None:
                    meta = metas[(p, data["bp"])] = self._meta(p, data["bp"])
                if pipeline is not None and meta.get("pipeline") != pipeline:
                    continue
                out.append(_summary(rid, data, meta))
                if len(out) >= limit:
                    break
        return out

    def recent_runs(self, *, pipeline: str | None = None, state: str | None = None, limit: int = 50) -> list[RunSummary]:
        """The newest runs, active and finished together (or only those in ``state``), newest first."""
        if state is None:
            found = self.runs(finished=False, pipeline=pipeline, limit=limit)
            found += self.runs(finished=True, pipeline=pipeline, limit=limit)
        else:
            # The indexes hold active and finished runs apart; a state narrows one of them further.
            finished = state in {s.value for s in FINISHED_RUN_STATES}
            found = [r for r in self.runs(finished=finished, pipeline=pipeline, limit=limit * 4) if r.state == state]
        return sorted(found, key=lambda r: (r.created_ms, r.run_id), reverse=True)[:limit]

    def run(self, run_id: str) -> RunDetail:
        p = self._ks.run_prefix(run_id)
        with translate_errors("run show"):
            data = self._c.hgetall(keys.run(p, run_id))
            if not data:
                raise NotFound(f"run {run_id!r} does not exist (or has expired)")
            bp = self._c.hgetall(keys.blueprint(p, data["bp"]))
        meta = json.loads(bp.get("meta", "{}"))
        tasks = []
        for name in meta.get("order", []):
            queue = json.loads(bp.get(f"t:{name}", "{}")).get("q", "")
            unit_ids = [keys.unit_id(run_id, name)]
            unit_ids += [keys.unit_id(run_id, name, i) for i in range(int(data.get(f"n:{name}", 0)))]
            units = tuple(u for u in (_unit(data, uid, queue) for uid in unit_ids) if u is not None)
            tasks.append(TaskView(name, TaskState(data[f"s:{name}"]), units))
        summary = _summary(run_id, data, meta)
        return RunDetail(summary, data.get("params", "{}"), data.get("failed"), tuple(tasks))

    def pipeline_of(self, run_id: str) -> str | None:
        """The pipeline a run belongs to (two small reads), or None when the run has expired."""
        p = self._ks.run_prefix(run_id)
        with translate_errors("run pipeline"):
            digest = self._c.hget(keys.run(p, run_id), "bp")
        if digest is None:
            return None
        name = self._meta(p, digest).get("pipeline")
        return str(name) if name is not None else None

    def queues(self) -> list[str]:
        names: set[str] = set()
        with translate_errors("queues"):
            for p in self._ks.shard_prefixes:
                names |= set(self._c.smembers(keys.shard_queues(p)))
        return sorted(names)

    def queue_stats(self, name: str) -> QueueStats:
        totals = dict.fromkeys(("ready", "delayed", "dead_letters", *_COUNTERS), 0)
        with translate_errors("queue stats"):
            for p in self._ks.shard_prefixes:
                totals["ready"] += self._c.zcard(keys.queue_ready(p, name))
                totals["delayed"] += self._c.zcard(keys.queue_delayed(p, name))
                totals["dead_letters"] += self._c.zcard(keys.queue_dead(p, name))
                state = self._c.hgetall(keys.queue_state(p, name))
                for field in _COUNTERS:
                    totals[field] += int(state.get(field, 0))
        return QueueStats(
            name,
            totals["ready"],
            totals["delayed"],
            totals["inflight"],
            totals["dead_letters"],
            totals["processed"],
            totals["failed"],
            totals["retried"],
            totals["dead"],
            totals["dropped"],
        )

    def dead_letters(self, queue: str, limit: int = 100) -> list[DeadTask]:
        """Dead-lettered tasks of a queue, oldest first, across shards."""
        entries: list[tuple[float, str]] = []
        with translate_errors("dlq list"):
            for p in self._ks.shard_prefixes:
                entries.extend((s, u) for u, s in self._c.zrange(keys.queue_dead(p, queue), 0, limit - 1, withscores=True))
        entries.sort()
        out = []
        for died, unit_id in entries[:limit]:
            task = self._dead(unit_id, int(died))
            if task is not None:
                out.append(task)
        return out

    def dead_letter(self, unit_id: str) -> DeadTask:
        task = self._dead(unit_id, None)
        if task is None:
            raise NotFound(f"{unit_id} is not in a dead-letter queue")
        return task

    def _dead(self, unit_id: str, died_ms: int | None) -> DeadTask | None:
        run_id = run_of(unit_id)
        p = self._ks.run_prefix(run_id)
        names = ("st", "a", "in", "err", "ek", "h")
        with translate_errors("dlq show"):
            st, attempt, text, err, kind, history, digest = self._c.hmget(
                keys.run(p, run_id), *(keys.unit_field(unit_id, n) for n in names), "bp"
            )
            if st != UnitState.DEAD or digest is None:
                return None
            _, task, *item = unit_id.split("|")
            queue = json.loads(self._c.hget(keys.blueprint(p, digest), f"t:{task}") or "{}").get("q", "")
            if died_ms is None:
                score = self._c.zscore(keys.queue_dead(p, queue), unit_id)
                if score is None:
                    return None
                died_ms = int(score)
        return DeadTask(
            unit_id,
            run_id,
            task,
            int(item[0]) if item else None,
            queue,
            err or "",
            kind or "",
            int(attempt or 0),
            died_ms,
            text,
            tuple(json.loads(history or "[]")),
        )


def _unit(data: dict[str, str], unit_id: str, queue: str) -> UnitView | None:
    def field(name: str) -> str | None:
        return data.get(keys.unit_field(unit_id, name))

    state = field("st")
    if state is None:
        return None
    item = unit_id.split("|")[2:]
    return UnitView(
        unit_id,
        int(item[0]) if item else None,
        UnitState(state),
        int(field("a") or 0),
        queue,
        field("err"),
        field("ek"),
        field("out"),
        _int(field("fin")),
        _int(field("due")) if state == UnitState.DELAYED else None,
        tuple(json.loads(field("h") or "[]")),
    )


def _summary(run_id: str, data: dict[str, Any], meta: dict[str, Any]) -> RunSummary:
    return RunSummary(
        run_id,
        str(meta.get("pipeline", "")),
        int(meta.get("ver", 0)),
        RunState(data["state"]),
        int(data["created"]),
        _int(data.get("started")),
        _int(data.get("finished")),
        _int(data.get("prio")),
        json.loads(data.get("labels") or "{}"),
    )
