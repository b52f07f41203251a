"""The catalog: applied plans and their versions, pipeline history, handler modules.

Plans are stored content-addressed by hash; each pipeline has numbered versions
pointing at plan hashes. Modules are stored content-addressed by digest, each in its
own slot, so workers on any machine fetch them. Changes are announced on the catalog
channel, which is how workers learn of new versions without restarting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ottermq import keys
from ottermq.errors import NotFound
from ottermq.plan import ExecutionPlan
from ottermq.settings import Settings
from ottermq.store.boundary import translate_errors
from ottermq.store.connection import connect
from ottermq.store.scripts import load_source

__all__ = ["ApplyOutcome", "Catalog", "HistoryEntry"]

CATALOG_EVENTS_MAXLEN = 10_000


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    pipeline: str
    status: str  # created | configured | unchanged
    old_version: int
    new_version: int


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    version: int
    hash: str | None
    applied_at_ms: int | None
    cause: str
    source: str | None
    notes: str | None
    removed: bool = False


class Catalog:
    def __init__(self, client: Any, settings: Settings) -> None:
        self._client = client
        self._settings = settings
        self._prefix = settings.key_prefix
        # Modules are bytes: they need a connection that does not decode replies.
        self._binary: Any = None
        self._apply = client.register_script(load_source("catalog_apply").text)
        self._remove = client.register_script(load_source("catalog_remove").text)

    # --- writes ---------------------------------------------------------------------------

    def put_module(self, digest: str, data: bytes) -> bool:
        """Store a module's bytes under its digest; False when it was there already."""
        with translate_errors("store module"):
            return bool(self._client.set(keys.module(self._prefix, digest), data, nx=True))

    def apply(
        self,
        pipeline: str,
        plan_hash: str,
        plan_json: str,
        *,
        now_ms: int,
        cause: str = "apply",
        source: str | None = None,
        notes: str | None = None,
    ) -> ApplyOutcome:
        p = self._prefix
        with translate_errors("apply"):
            status, old, new = self._apply(
                keys=[
                    keys.pipeline_index(p),
                    keys.plan_versions(p, pipeline),
                    keys.pipeline_history(p, pipeline),
                    keys.plan(p, plan_hash),
                    keys.catalog_events(p),
                    keys.plan_sources(p),
                ],
                args=[
                    pipeline,
                    plan_hash,
                    plan_json,
                    now_ms,
                    cause,
                    source or "",
                    notes or "",
                    CATALOG_EVENTS_MAXLEN,
                    keys.catalog_channel(p),
                ],
            )
        return ApplyOutcome(pipeline, _text(status), int(old), int(new))

    def remove(self, pipeline: str, *, now_ms: int) -> int:
        p = self._prefix
        with translate_errors("prune"):
            return int(
                self._remove(
                    keys=[keys.pipeline_index(p), keys.pipeline_history(p, pipeline), keys.catalog_events(p)],
                    args=[pipeline, now_ms, CATALOG_EVENTS_MAXLEN, keys.catalog_channel(p)],
                )
            )

    # --- reads ----------------------------------------------------------------------------

    def pipelines(self) -> dict[str, int]:
        """Applied pipelines and their latest versions."""
        with translate_errors("list pipelines"):
            raw: Mapping[Any, Any] = self._client.hgetall(keys.pipeline_index(self._prefix))
        return {_text(k): int(v) for k, v in sorted(raw.items())}

    def versions(self, pipeline: str) -> dict[int, str]:
        """Version number -> plan hash."""
        with translate_errors("list versions"):
            raw: Mapping[Any, Any] = self._client.hgetall(keys.plan_versions(self._prefix, pipeline))
        return {int(k): _text(v) for k, v in raw.items() if _text(k) != "latest"}

    def latest_version(self, pipeline: str) -> int | None:
        with translate_errors("read pipeline"):
            value = self._client.hget(keys.pipeline_index(self._prefix), pipeline)
        return int(value) if value is not None else None

    def plan_hash(self, pipeline: str, version: int) -> str:
        with translate_errors("read version"):
            value = self._client.hget(keys.plan_versions(self._prefix, pipeline), str(version))
        if value is None:
            raise NotFound(f"pipeline `{pipeline}` has no version {version}")
        return _text(value)

    def plan_json(self, plan_hash: str) -> str:
        with translate_errors("read plan"):
            value = self._client.get(keys.plan(self._prefix, plan_hash))
        if value is None:
            raise NotFound(f"plan {plan_hash} is not in the catalog")
        return _text(value)

    def plan(self, plan_hash: str) -> ExecutionPlan:
        """The stored plan with this hash."""
        return ExecutionPlan.from_json(self.plan_json(plan_hash))

    def plan_at(self, pipeline: str, version: int) -> ExecutionPlan:
        """The plan of one version of a pipeline (NotFound when the catalog has no such version)."""
        return self.plan(self.plan_hash(pipeline, version))

    def plan_source(self, plan_hash: str) -> str | None:
        """The pipeline file a plan was last applied from, as the applying command showed it."""
        with translate_errors("read plan source"):
            value = self._client.hget(keys.plan_sources(self._prefix), plan_hash)
        return _text(value) if value is not None else None

    def module(self, digest: str) -> bytes:
        with translate_errors("read module"):
            if self._binary is None:
                self._binary = connect(self._settings, decode_responses=False)
            value = self._binary.get(keys.module(self._prefix, digest))
        if value is None:
            raise NotFound(f"handler module {digest} is not in the catalog (apply the pipeline that uses it)")
        return bytes(value)

    def has_module(self, digest: str) -> bool:
        """Whether a module is stored, without fetching its bytes."""
        with translate_errors("read module"):
            return bool(self._client.exists(keys.module(self._prefix, digest)))

    def history(self, pipeline: str) -> list[HistoryEntry]:
        with translate_errors("read history"):
            raw = self._client.lrange(keys.pipeline_history(self._prefix, pipeline), 0, -1)
        out = []
        for item in raw:
            data = json.loads(item)
            out.append(
                HistoryEntry(
                    version=int(data["version"]),
                    hash=data.get("hash"),
                    applied_at_ms=data.get("applied_at"),
                    cause=data.get("cause", ""),
                    source=data.get("source") or None,
                    notes=data.get("notes") or None,
                    removed="removed_at" in data,
                )
            )
        return out

    def close(self) -> None:
        if self._binary is not None:
            self._binary.close()

    def subscribe(self) -> Any:
        """A pub/sub subscription to catalog changes (for workers to reload plans)."""
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(keys.catalog_channel(self._prefix))
        return pubsub


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
