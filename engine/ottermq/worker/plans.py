"""Plans and handlers a worker needs, fetched from the catalog once and cached.

A run pins its plan version, so a worker keeps every version it has seen: tasks of
old runs finish on the version they started with while new runs use the new one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from ottermq.errors import HandlerModuleError
from ottermq.plan import ExecutionPlan, HandlerPlan
from ottermq.store.catalog import Catalog
from ottermq.wasm import DirGrant, LoadedHandler, SandboxSpec, WasmRuntime

__all__ = ["PlanCache", "HandlerCache", "sandbox_spec"]


class PlanCache:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._plans: dict[str, ExecutionPlan] = {}
        self._sources: dict[str, Path] = {}
        self._lock = threading.Lock()

    def source_dir(self, plan_hash: str) -> Path:
        """The directory of the pipeline file the plan was applied from: granted `dirs` are relative to it."""
        with self._lock:
            found = self._sources.get(plan_hash)
        if found is None:
            source = self._catalog.plan_source(plan_hash)
            found = Path(source).parent if source else Path(".")
            with self._lock:
                self._sources[plan_hash] = found
        return found

    def get(self, plan_hash: str) -> ExecutionPlan:
        with self._lock:
            plan = self._plans.get(plan_hash)
        if plan is None:
            plan = self._catalog.plan(plan_hash)
            with self._lock:
                self._plans[plan_hash] = plan
        return plan


def sandbox_spec(handler: HandlerPlan, base_dir: Path, timeout_ms: int) -> SandboxSpec:
    """The handler's limits and grants; granted directories are relative to ``base_dir``."""
    return SandboxSpec(
        abi=handler.abi,
        memory_bytes=handler.memory_bytes,
        timeout_ms=timeout_ms,
        fuel=handler.fuel,
        max_output_bytes=handler.max_output_bytes,
        env=handler.env,
        dirs=tuple(DirGrant(host=str((base_dir / d.host).resolve()), guest=d.guest, read_only=d.read_only) for d in handler.dirs),
        reuse_instance=handler.reuse_instance,
    )


class HandlerCache:
    """Loaded handlers by (module digest, task timeout); modules come from disk, else the catalog."""

    def __init__(self, catalog: Catalog, runtime: WasmRuntime, module_dir: Path, plans: PlanCache) -> None:
        self._catalog = catalog
        self._runtime = runtime
        self._module_dir = module_dir
        self._plans = plans
        self._handlers: dict[tuple[str, str, int], LoadedHandler] = {}
        self._lock = threading.Lock()

    def get(self, plan: ExecutionPlan, handler: HandlerPlan, timeout_ms: int) -> LoadedHandler:
        key = (plan.hash, handler.name, timeout_ms)
        with self._lock:
            loaded = self._handlers.get(key)
        if loaded is None:
            path = self._module_path(handler.digest)
            spec = sandbox_spec(handler, self._plans.source_dir(plan.hash), timeout_ms)
            loaded = self._runtime.load(path, spec)
            with self._lock:
                self._handlers[key] = loaded
        return loaded

    def _module_path(self, digest: str) -> Path:
        name = digest.replace(":", "-") + ".wasm"
        path = self._module_dir / name
        if path.is_file():
            return path
        data = self._catalog.module(digest)
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise HandlerModuleError(f"module {digest} from the catalog has digest {actual}; refusing to run it")
        self._module_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._module_dir, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return path
