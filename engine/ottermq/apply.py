"""`apply`: make the catalog match a repository of pipeline files, like `kubectl apply`.

Everything is validated first; nothing is written if any file is invalid. Modules
are uploaded before the plans that use them, so a worker that sees a new version can
always fetch its modules. Applying the same files twice changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from ottermq.blueprints import blueprint_of
from ottermq.clock import Clock
from ottermq.errors import InternalError, NotFound
from ottermq.plan import ExecutionPlan
from ottermq.spec.repository import CompiledPipeline, compile_paths
from ottermq.store.catalog import ApplyOutcome, Catalog
from ottermq.store.protocol import Store
from ottermq.suggest import did_you_mean

__all__ = ["ApplyLine", "apply_paths", "install_version", "plan_diff", "rollback"]


@dataclass(frozen=True, slots=True)
class ApplyLine:
    pipeline: str
    status: str  # created | configured | unchanged | pruned (and "would ..." in a dry run)
    old_version: int
    new_version: int
    changes: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        if self.status in ("configured", "would configure"):
            text = f"pipeline {self.pipeline} {self.status} (v{self.old_version} -> v{self.new_version})"
        elif self.status in ("created", "would create"):
            text = f"pipeline {self.pipeline} {self.status} (v{self.new_version})"
        elif self.status in ("pruned", "would prune"):
            text = f"pipeline {self.pipeline} {self.status} (was v{self.old_version})"
        else:
            text = f"pipeline {self.pipeline} {self.status} (v{self.old_version})"
        return text + "".join(f"\n  {c}" for c in self.changes)


def apply_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    catalog: Catalog,
    store: Store,
    clock: Clock,
    dry_run: bool = False,
    prune: bool = False,
) -> list[ApplyLine]:
    compiled = compile_paths(paths)
    applied = catalog.pipelines()
    lines = [_apply_one(c, catalog, store, clock, applied.get(c.plan.pipeline), dry_run) for c in compiled]
    if prune:
        keep = {c.plan.pipeline for c in compiled}
        for name, version in applied.items():
            if name in keep:
                continue
            if not dry_run:
                catalog.remove(name, now_ms=clock.now_ms())
            lines.append(ApplyLine(name, "would prune" if dry_run else "pruned", version, version))
    return lines


def _apply_one(
    compiled: CompiledPipeline, catalog: Catalog, store: Store, clock: Clock, current: int | None, dry_run: bool
) -> ApplyLine:
    plan = compiled.plan
    old_plan = catalog.plan_at(plan.pipeline, current) if current else None
    if dry_run:
        if old_plan is None:
            return ApplyLine(plan.pipeline, "would create", 0, (current or 0) + 1, tuple(plan_diff(None, plan)))
        if old_plan.hash == plan.hash:
            return ApplyLine(plan.pipeline, "unchanged", current or 0, current or 0)
        return ApplyLine(plan.pipeline, "would configure", current or 0, (current or 0) + 1, tuple(plan_diff(old_plan, plan)))
    for handler in plan.handlers:
        catalog.put_module(handler.digest, compiled.module_paths[handler.name].read_bytes())
    outcome = install_version(plan, catalog, store, clock, cause="apply", source=plan.source)
    changes = tuple(plan_diff(old_plan, plan)) if outcome.status == "configured" else ()
    return ApplyLine(plan.pipeline, outcome.status, outcome.old_version, outcome.new_version, changes)


def install_version(
    plan: ExecutionPlan, catalog: Catalog, store: Store, clock: Clock, *, cause: str, source: str | None
) -> ApplyOutcome:
    """Make ``plan`` the latest version of its pipeline (unless it is already) and install it in every shard.

    Its modules must be in the catalog already, so a worker that sees the new version can fetch them.
    """
    outcome = catalog.apply(
        plan.pipeline, plan.hash, plan.to_json(), now_ms=clock.now_ms(), cause=cause, source=source, notes=plan.notes
    )
    if outcome.status != "unchanged":
        store.install(blueprint_of(plan, outcome.new_version))
    return outcome


def rollback(pipeline: str, version: int, *, catalog: Catalog, store: Store, clock: Clock) -> ApplyLine:
    """Apply the plan of an earlier ``version`` again, as a new version (like `kubectl rollout undo`).

    History stays linear: the new version records the cause `rollback to vN`. Modules are
    content-addressed, so the old version's modules are still in the catalog (checked first).
    """
    history = catalog.history(pipeline)
    if not history:
        known = catalog.pipelines()
        raise NotFound(f"pipeline `{pipeline}` has never been applied{did_you_mean(pipeline, known)}")
    target_hash = catalog.plan_hash(pipeline, version)
    target = catalog.plan(target_hash)
    if target.hash != target_hash:
        raise InternalError(f"the stored plan of {pipeline} v{version} hashes to {target.hash}, not {target_hash}")
    missing = [h.name for h in target.handlers if not catalog.has_module(h.digest)]
    if missing:
        raise NotFound(f"{pipeline} v{version}: the modules of handlers {', '.join(missing)} are no longer in the catalog")
    current = catalog.latest_version(pipeline)
    current_plan = catalog.plan_at(pipeline, current) if current else None
    source = next((h.source for h in history if h.version == version and not h.removed), None)
    outcome = install_version(
        target, catalog, store, clock, cause=f"rollback to v{version}", source=source or catalog.plan_source(target_hash)
    )
    changes = tuple(plan_diff(current_plan, target)) if outcome.status == "configured" else ()
    return ApplyLine(pipeline, outcome.status, outcome.old_version, outcome.new_version, changes)


def plan_diff(old: ExecutionPlan | None, new: ExecutionPlan) -> list[str]:
    """Lines like `+ task ship`, `~ queue orders`, `- schedule nightly`, sorted by kind and name."""
    out: list[str] = []
    sections = (
        ("task", {t.name: t for t in old.tasks} if old else {}, {t.name: t for t in new.tasks}),
        ("queue", {q.name: q for q in old.queues} if old else {}, {q.name: q for q in new.queues}),
        ("handler", {h.name: h for h in old.handlers} if old else {}, {h.name: h for h in new.handlers}),
        ("schedule", {s.name: s for s in old.schedules} if old else {}, {s.name: s for s in new.schedules}),
    )
    for kind, before, after in sections:
        for name in sorted(set(before) | set(after)):
            if name not in before:
                out.append(f"+ {kind} {name}")
            elif name not in after:
                out.append(f"- {kind} {name}")
            elif before[name] != after[name]:
                out.append(f"~ {kind} {name}{_changed_fields(before[name], after[name])}")
    if old is not None and old.params_schema != new.params_schema:
        out.append("~ params")
    return out


def _changed_fields(before: object, after: object) -> str:
    names = [f for f in getattr(before, "__dataclass_fields__", {}) if getattr(before, f) != getattr(after, f)]
    return f" ({', '.join(names)})" if names else ""
