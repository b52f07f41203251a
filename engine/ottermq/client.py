"""The Python API: apply pipelines, start and follow runs, subscribe to events.

    client = ottermq.Client()                     # the embedded Redis, or Client("redis://...")
    client.apply("pipelines/")
    run = client.run("checkout", {"order_id": "A-1", "customer": "ada@example.com"})
    detail = client.wait(run.run_id, timeout=60)
    client.events.subscribe("task.succeeded", print)
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ottermq.apply import ApplyLine, apply_paths
from ottermq.blueprints import blueprint_of
from ottermq.clock import Clock, SystemClock
from ottermq.errors import NotFound, UserError
from ottermq.params import resolve_params
from ottermq.plan import ExecutionPlan
from ottermq.rendering import render_root_inputs, run_context, run_envelope
from ottermq.settings import Settings, load_settings
from ottermq.store.catalog import Catalog
from ottermq.store.events import Event, EventCursor, EventReader
from ottermq.store.inspect import Inspector, RunDetail, RunSummary
from ottermq.store.redis_store import RedisStore
from ottermq.store.types import FINISHED_RUN_STATES, RunCreated, RunRequest, RunState
from ottermq.suggest import did_you_mean
from ottermq.templating import TemplateEngine

__all__ = ["Client", "Events"]


class Client:
    def __init__(self, url: str | None = None, *, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or load_settings({"redis_url": url} if url else {})
        self.clock = clock or SystemClock()
        self.store = RedisStore.from_settings(self.settings, self.clock)
        self.catalog = Catalog(self.store.client, self.settings)
        self.inspect = Inspector(self.store)
        self.events = Events(self.store)
        self._engine = TemplateEngine()
        self._plans: dict[tuple[str, int], ExecutionPlan] = {}

    def close(self) -> None:
        self.events.close()
        self.catalog.close()
        self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- pipelines ------------------------------------------------------------------------

    def apply(self, *paths: str | os.PathLike[str], dry_run: bool = False, prune: bool = False) -> list[ApplyLine]:
        return apply_paths(paths, catalog=self.catalog, store=self.store, clock=self.clock, dry_run=dry_run, prune=prune)

    def plan(self, pipeline: str, version: int | None = None) -> tuple[ExecutionPlan, int]:
        """The plan of ``pipeline`` at ``version`` (default: the latest applied)."""
        if version is None:
            latest = self.catalog.latest_version(pipeline)
            if latest is None:
                known = list(self.catalog.pipelines())
                hint = did_you_mean(pipeline, known) if known else " (nothing is applied yet: run `ottermq apply`)"
                raise NotFound(f"pipeline `{pipeline}` is not applied{hint}")
            version = latest
        key = (pipeline, version)
        if key not in self._plans:
            self._plans[key] = self.catalog.plan_at(pipeline, version)
        return self._plans[key], version

    # --- runs -----------------------------------------------------------------------------

    def run(
        self,
        pipeline: str,
        params: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        priority: int | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> RunCreated:
        """Start one run; with ``run_id``, starting it again returns the existing run."""
        return self.run_many(pipeline, [params or {}], run_ids=[run_id], priority=priority, labels=labels)[0]

    def run_many(
        self,
        pipeline: str,
        params_list: Sequence[Mapping[str, Any]],
        *,
        run_ids: Sequence[str | None] | None = None,
        priority: int | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[RunCreated]:
        """Start many runs in bulk (one store call per shard per chunk)."""
        plan, version = self.plan(pipeline)
        ids = list(run_ids) if run_ids is not None else [None] * len(params_list)
        if len(ids) != len(params_list):
            raise UserError("run_many: run_ids and params_list differ in length")
        created_at = dt.datetime.fromtimestamp(self.clock.now_ms() / 1000, dt.UTC).isoformat(timespec="milliseconds")
        requests = []
        for given, run_id in zip(params_list, ids, strict=True):
            params = resolve_params(plan, given)
            # Render the root inputs now, so a template that cannot render fails here, before anything is queued.
            render_root_inputs(self._engine, plan, run_context(plan, params, run_id=run_id or "(new)", version=version,
                                                              created_at=created_at, priority=priority or 0))
            requests.append(RunRequest(
                params_json=run_envelope(params, created_at, priority or 0), run_id=run_id, priority=priority,
                labels=dict(labels or {}),
            ))
        return self.store.create_runs(blueprint_of(plan, version), requests)

    def cancel(self, run_id: str) -> RunState:
        return self.store.cancel_run(run_id)

    def get(self, run_id: str) -> RunDetail:
        return self.inspect.run(run_id)

    def runs(self, *, pipeline: str | None = None, state: str | None = None, limit: int = 50) -> list[RunSummary]:
        """The newest runs, newest first (optionally of one pipeline, in one state)."""
        return self.inspect.recent_runs(pipeline=pipeline, state=state, limit=limit)

    def wait(self, run_id: str, timeout: float | None = None) -> RunDetail:
        """Block until the run has finished (or ``timeout`` seconds pass: then its current detail)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        reader = EventReader(self.store)
        try:
            cursor = reader.latest()
            while True:
                detail = self.inspect.run(run_id)
                if detail.summary.state in FINISHED_RUN_STATES:
                    return detail
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return detail
                wait_ms = 1000 if left is None else max(1, min(1000, int(left * 1000)))
                _, cursor = reader.read(cursor, block_ms=wait_ms)
        finally:
            reader.close()


class Events:
    """Event stream access: read from a cursor, or subscribe a callback to event types."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._threads: list[tuple[threading.Thread, threading.Event]] = []

    def read(self, cursor: EventCursor | None = None, *, block_ms: int | None = None) -> tuple[list[Event], EventCursor]:
        reader = EventReader(self._store)
        try:
            return reader.read(cursor, block_ms=block_ms)
        finally:
            reader.close()

    def follow(self, *, types: Iterable[str] = (), since: EventCursor | None = None,
               stop: threading.Event | None = None) -> Iterable[Event]:
        """Yield events as they happen (from ``since``, else from now) until ``stop`` is set."""
        wanted = set(types)
        reader = EventReader(self._store)
        try:
            cursor = since or reader.latest()
            while stop is None or not stop.is_set():
                events, cursor = reader.read(cursor, block_ms=500)
                for event in events:
                    if not wanted or event.type in wanted:
                        yield event
        finally:
            reader.close()

    def subscribe(self, event_type: str, callback: Callable[[Event], Any]) -> Callable[[], None]:
        """Call ``callback`` on a background thread for every new event of ``event_type``; returns `unsubscribe`."""
        stop = threading.Event()
        # Take the position now, so nothing that happens after subscribe() returns is missed.
        reader = EventReader(self._store)
        try:
            since = reader.latest()
        finally:
            reader.close()

        def pump() -> None:
            for event in self.follow(types=[event_type] if event_type != "*" else [], since=since, stop=stop):
                callback(event)

        thread = threading.Thread(target=pump, name=f"ottermq-events-{event_type}", daemon=True)
        thread.start()
        self._threads.append((thread, stop))

        def unsubscribe() -> None:
            stop.set()
            thread.join(timeout=2)

        return unsubscribe

    def close(self) -> None:
        for thread, stop in self._threads:
            stop.set()
            thread.join(timeout=2)
        self._threads.clear()

