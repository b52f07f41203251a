"""Translation between Python values and what the Lua scripts read and return."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ottermq.store.blueprint import CompositeStrategy, QueueConfig, QueueKind, RunBlueprint
from ottermq.store.types import LeasedTask

__all__ = ["blueprint_fields", "limit_share", "parse_leased", "queue_config_json"]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def limit_share(total: int, shards: int, shard: int) -> int:
    """This shard's part of a global limit: split evenly, never below 1 so no shard stalls."""
    return max(1, total // shards + (1 if shard < total % shards else 0))


def blueprint_fields(bp: RunBlueprint, default_retention_ms: int) -> tuple[str, list[tuple[str, str]]]:
    """The blueprint hash a shard stores: its meta JSON and one compact JSON per task."""
    children: dict[str, list[str]] = {t.name: [] for t in bp.tasks}
    for task in bp.tasks:
        for need in task.needs:
            children[need].append(task.name)
    used = {bp.queue(t.queue) for t in bp.tasks}
    retention = max(q.retention_ms if q.retention_ms is not None else default_retention_ms for q in used)
    dead = [q.dead_letter for q in used if q.dead_letter.enabled]
    if any(d.retention_ms is None for d in dead):
        dead_retention = -1
    else:
        dead_retention = max((d.retention_ms or 0 for d in dead), default=0)
    meta = {
        "pipeline": bp.pipeline,
        "ver": bp.plan_version,
        "hash": bp.plan_hash,
        "order": [t.name for t in bp.tasks],
        "roots": list(bp.roots),
        "fanouts": [t.name for t in bp.tasks if t.fan_out],
        "ret": retention,
        "dlr": dead_retention,
    }
    tasks = []
    for task in bp.tasks:
        spec: dict[str, Any] = {
            "q": task.queue,
            "nd": list(task.needs),
            "ch": children[task.name],
            "ma": task.max_attempts,
            "bo": {
                "k": str(task.backoff.kind),
                "i": task.backoff.initial_ms,
                "m": task.backoff.max_ms,
                "j": task.backoff.jitter,
            },
            "ro": list(task.retry_on),
            "pr": task.priority,
            "dl": task.delay_ms,
            "fo": task.fan_out,
            "of": str(task.on_failure),
        }
        if task.timeout_ms is not None:
            spec["to"] = task.timeout_ms
        tasks.append((task.name, _dumps(spec)))
    return _dumps(meta), tasks


def queue_config_json(queue: QueueConfig, shard: int, shards: int, default_retention_ms: int) -> str:
    """One shard's copy of a queue config; global limits become this shard's share."""
    cfg: dict[str, Any] = {"kind": str(queue.kind), "full": str(queue.on_full)}
    if queue.kind is QueueKind.PRIORITY:
        cfg["levels"] = queue.levels
    if queue.kind is QueueKind.COMPOSITE:
        cfg["members"] = list(queue.members)
        cfg["strategy"] = str(queue.strategy)
        if queue.strategy is CompositeStrategy.WEIGHTED:
            cfg["weights"] = list(queue.weights)
    if queue.max_size is not None:
        cfg["max"] = limit_share(queue.max_size, shards, shard)
    if queue.concurrency is not None:
        cfg["conc"] = limit_share(queue.concurrency, shards, shard)
    if queue.rate_limit is not None:
        cfg["rc"] = limit_share(queue.rate_limit.count, shards, shard)
        cfg["rw"] = queue.rate_limit.window_ms
    cfg["dlq"] = queue.dead_letter.enabled
    if queue.dead_letter.retention_ms is not None:
        cfg["dlr"] = queue.dead_letter.retention_ms
    cfg["ret"] = queue.retention_ms if queue.retention_ms is not None else default_retention_ms
    return _dumps(cfg)


def parse_leased(row: Sequence[Any]) -> LeasedTask:
    # Positional: this runs once per leased task on the hot path. Numbers arrive as ints.
    needs_flat = row[14]
    return LeasedTask(
        row[0],
        row[1],
        row[2],
        int(row[3]) if row[3] else None,
        row[4],
        row[5],
        int(row[6]),
        row[7],
        row[8] == 1,
        row[9],
        int(row[10]),
        row[11],
        row[12],
        row[13],
        tuple(zip(needs_flat[0::2], needs_flat[1::2], strict=True)) if needs_flat else (),
    )
